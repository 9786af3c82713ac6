//! The README's minimal guest: one span, with one attribute, around a hello world.
use wasmedge_otel_guest::span;

fn main() {
    let _span = span!("main", "greeting" => "hello");
    println!("hello, world");
}
