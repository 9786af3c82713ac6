//! `hello-world` with the three signals at their smallest: one span, one counter add and one log
//! record. Compared with `hello-world-plain`, it measures what the bindings cost a guest that uses
//! traces, metrics and logs.
use wasmedge_otel_guest::{kv, logs, span, Counter};

fn main() {
    let _span = span!("main", "greeting" => "hello");
    let greetings = Counter::<i64>::builder("app.greetings").build();
    greetings.add(1, &[kv("greeting", "hello")]);
    logs::info("greeted", &[]);
    println!("hello, world");
}
