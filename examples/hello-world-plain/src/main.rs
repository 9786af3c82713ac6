//! `hello-world` without the bindings: the baseline for measuring what they add.
fn main() {
    println!("hello, world");
}
