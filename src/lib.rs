pub mod view_body;
