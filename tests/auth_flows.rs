use fhirside::demo::{DemoOptions, DemoServer};
#[test]
fn placeholder() { let _ = DemoOptions::default(); let _ = std::mem::size_of::<DemoServer>(); }
