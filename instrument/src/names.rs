//! Function names: demangling, glob patterns, and the default exclusion list.

/// Demangles a symbol name: Rust (legacy and v0, without the hash), then C++ (Itanium). A name
/// that is neither is returned as it is.
pub fn demangle(raw: &str) -> String {
    if let Ok(d) = rustc_demangle::try_demangle(raw) {
        // `{:#}` leaves out the `::h0123...` hash (legacy) and crate disambiguators (v0).
        return format!("{d:#}");
    }
    if raw.starts_with("_Z") {
        if let Ok(sym) = cpp_demangle::Symbol::new(raw) {
            if let Ok(d) = sym.demangle(&cpp_demangle::DemangleOptions::default()) {
                return d;
            }
        }
    }
    raw.to_string()
}

/// A glob pattern in which `*` stands for any run of characters (`::` included) and `?` for one
/// character; everything else matches itself. The whole name must match.
#[derive(Clone, Debug)]
pub struct Glob {
    source: String,
    chars: Vec<char>,
}

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Self {
        Glob { source: pattern.to_string(), chars: pattern.chars().collect() }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `name` (as its characters) matches.
    pub fn matches(&self, name: &[char]) -> bool {
        let (p, n) = (&self.chars, name);
        let (mut pi, mut ni) = (0, 0);
        // The last `*` seen and the name position it was tried at: backtracking to it alone is
        // enough for `*`/`?` globs, so matching stays O(len(p) * len(n)) at worst.
        let mut star: Option<(usize, usize)> = None;
        while ni < n.len() {
            if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == n[ni])) {
                pi += 1;
                ni += 1;
            } else if pi < p.len() && p[pi] == '*' {
                star = Some((pi, ni));
                pi += 1;
            } else if let Some((sp, sn)) = star {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == '*')
    }
}

/// Matches `name` against a glob `pattern` (see [`Glob`]).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    Glob::new(pattern).matches(&name.chars().collect::<Vec<_>>())
}

/// The default exclusions, matched against demangled names: runtime internals whose spans would
/// be noise (or hot enough to dominate the cost). `--all` turns them off.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    // Rust: the standard library and the crates it is built from, their trait implementations,
    // and formatting impls of any type (`<&T as core::fmt::Debug>::fmt`, ...).
    "core::*",
    "alloc::*",
    "std::*",
    "std_detect::*",
    "compiler_builtins::*",
    "panic_abort::*",
    "panic_unwind::*",
    "hashbrown::*",
    "dlmalloc::*",
    "wasi::*",
    // The wasmedge_otel guest bindings: their calls are the telemetry itself, and tracing them
    // would put a short-lived frame between a span started by hand and its parent.
    "wasmedge_otel_guest::*",
    "<wasmedge_otel_guest::*",
    "rustc_demangle::*",
    "<core::*",
    "<alloc::*",
    "<std::*",
    "<hashbrown::*",
    "<dlmalloc::*",
    "<wasi::*",
    "<&core::*",
    "<&alloc::*",
    "<&std::*",
    "<&mut core::*",
    "<&mut alloc::*",
    "<&mut std::*",
    "<* as core::fmt::*",
    "<* as core::any::*",
    "<* as alloc::*",
    "<* as <core::*",
    "<* as <alloc::*",
    "<* as <std::*",
    // Inherent methods of primitive types live in core: `<str>::from_utf8`, `<[T]>::sort`, ...
    "<str>::*",
    "<char>::*",
    "<bool>::*",
    "<[*",
    "<u8>::*",
    "<u16>::*",
    "<u32>::*",
    "<u64>::*",
    "<u128>::*",
    "<usize>::*",
    "<i8>::*",
    "<i16>::*",
    "<i32>::*",
    "<i64>::*",
    "<i128>::*",
    "<isize>::*",
    "<f32>::*",
    "<f64>::*",
    "rust_begin_unwind",
    "rust_panic",
    "rust_oom",
    // Names starting with `__` are reserved for the implementation in C and C++: `__rust_alloc`,
    // `__rustc::*`, `__rdl_*`, `__wasi_*`, `__wasilibc_*`, `__wasm_call_ctors`, `__main_void`,
    // `__cxa_*`, compiler-rt builtins such as `__multi3`, ...
    "__*",
    // Entry points and wrappers made by wasm-ld and wasi-libc.
    "_start",
    "_initialize",
    "*.command_export",
    "_exit",
    "_Exit",
    "exit",
    "abort",
    "atexit",
    "dummy",
    "dummy1",
    // C library (wasi-libc, from musl): allocator.
    "dlmalloc*",
    "dlfree",
    "dlrealloc",
    "dlcalloc",
    "internal_memalign",
    "dispose_chunk",
    "prepend_alloc",
    "add_segment",
    "sys_alloc",
    "sys_trim",
    "tmalloc_large",
    "tmalloc_small",
    "release_unused_segments",
    "init_top",
    "init_bins",
    "init_mparams",
    "segment_holding",
    "try_realloc_chunk",
    "mmap_resize",
    "malloc",
    "free",
    "calloc",
    "realloc",
    "aligned_alloc",
    "posix_memalign",
    "sbrk",
    // Memory and strings.
    "memcpy",
    "memmove",
    "memset",
    "memcmp",
    "memchr",
    "memrchr",
    "bcmp",
    "strlen",
    "strnlen",
    "strcmp",
    "strncmp",
    "strcpy",
    "strncpy",
    "stpcpy",
    "stpncpy",
    "strcat",
    "strncat",
    "strchr",
    "strchrnul",
    "strrchr",
    "strstr",
    "strspn",
    "strcspn",
    "strpbrk",
    "strtok",
    "strdup",
    "strndup",
    "strerror",
    "strerror_r",
    "wcslen",
    "wcrtomb",
    "wctomb",
    "mbrtowc",
    "mbtowc",
    "mbsrtowcs",
    "wcsrtombs",
    // stdio and its internals.
    "printf",
    "fprintf",
    "sprintf",
    "snprintf",
    "dprintf",
    "asprintf",
    "vprintf",
    "vfprintf",
    "vsprintf",
    "vsnprintf",
    "vdprintf",
    "vasprintf",
    "printf_core",
    "pop_arg",
    "pad",
    "fmt_fp",
    "fmt_u",
    "fmt_x",
    "fmt_o",
    "getint",
    "out",
    "sn_write",
    "long_double_not_supported",
    "puts",
    "fputs",
    "putchar",
    "putc",
    "fputc",
    "fwrite",
    "fread",
    "fflush",
    "fopen",
    "fclose",
    "fseek",
    "ftell",
    "fgets",
    "fgetc",
    "getc",
    "getchar",
    "ungetc",
    "scanf",
    "sscanf",
    "fscanf",
    "vfscanf",
    "vsscanf",
    "perror",
    // Conversions, ctype and low-level I/O.
    "atoi",
    "atol",
    "atoll",
    "strtol",
    "strtoul",
    "strtoll",
    "strtoull",
    "strtod",
    "strtof",
    "frexp*",
    "scalbn*",
    "isalpha",
    "isdigit",
    "isspace",
    "isupper",
    "islower",
    "isalnum",
    "isprint",
    "tolower",
    "toupper",
    "read",
    "write",
    "readv",
    "writev",
    "close",
    "lseek",
    "isatty",
    "getenv",
    "getcwd",
    // C++ runtime.
    "operator new*",
    "operator delete*",
];

/// Names the default exclusions would catch that are user code all the same: wasi-libc renames a
/// C program's `main` to `__original_main`.
const USER_CODE: &[&str] = &["__original_main"];

/// Whether a name the default exclusions would catch is user code all the same.
pub fn is_user_code(name: &str) -> bool {
    USER_CODE.contains(&name)
}

/// Whether a demangled name is one of the [`DEFAULT_EXCLUDES`].
pub fn default_excluded(name: &str) -> Option<&'static str> {
    if is_user_code(name) {
        return None;
    }
    let name: Vec<char> = name.chars().collect();
    DEFAULT_EXCLUDES.iter().copied().find(|p| Glob::new(p).matches(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("core::*", "core::fmt::write"));
        assert!(!glob_match("core::*", "mycore::fmt"));
        assert!(glob_match("*::main", "hello::main"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyybzc"));
        assert!(!glob_match("a*b*c", "axxbyybz"));
        assert!(glob_match("<* as core::fmt::*", "<&T as core::fmt::Display>::fmt"));
        assert!(glob_match("Größe*", "Größe::x"));
    }

    #[test]
    fn demangles_rust_and_cpp() {
        assert_eq!(demangle("_ZN5hello4main17h0123456789abcdefE"), "hello::main");
        assert_eq!(demangle("_RNvCs1234_5hello4main"), "hello::main");
        assert_eq!(demangle("_Z3fooi"), "foo(int)");
        assert_eq!(demangle("plain_c"), "plain_c");
        assert_eq!(demangle("_Zbogus"), "_Zbogus");
    }

    #[test]
    fn default_list() {
        assert!(default_excluded("core::fmt::write").is_some());
        assert!(default_excluded("<alloc::string::String as core::fmt::Write>::write_str").is_some());
        assert!(default_excluded("<hello::Config as core::fmt::Debug>::fmt").is_some());
        assert!(default_excluded("__rust_alloc").is_some());
        assert!(default_excluded("memcpy").is_some());
        assert!(default_excluded("hello::compute").is_none());
        assert!(default_excluded("main").is_none());
        assert!(default_excluded("<hashbrown::raw::RawTable<T,A> as core::ops::drop::Drop>::drop").is_some());
        assert!(default_excluded("_start.command_export").is_some());
        assert!(default_excluded("printf_core").is_some());
        assert!(default_excluded("<&std::io::stdio::Stdout as std::io::Write>::write_fmt").is_some());
        assert!(default_excluded("<&str as core::any::Any>::type_id").is_some());
        assert!(default_excluded("<str>::from_utf8").is_some());
        assert!(default_excluded("<[u8]>::to_vec").is_some());
        assert!(default_excluded("<&[u8] as <alloc::ffi::c_str::CString>::new::SpecNewImpl>::spec_new_impl")
            .is_some());
        assert!(default_excluded("<app::Point as core::ops::Add>::add").is_none());
        assert!(default_excluded("<serde_json::de::MapAccess<R> as serde::de::MapAccess>::next_value_seed")
            .is_none());
    }
}
