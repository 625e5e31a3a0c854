//! Bringing requests in from other tools and giving them back: Postman collections and
//! environments, REST Client `.http` files, curl commands.
