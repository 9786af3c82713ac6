//! An example Rust host embedding WasmEdge 0.14 with the `wasmedge_otel` plugin, as applications
//! that run Wasm guests in-process do (rather than spawning the `wasmedge` CLI).
//!
//! The steps every embedder takes, each a function or method here:
//!
//! 1. [`load_plugin`]: load `libwasmedge_otel.so` from a directory of its own, once per process
//!    (`PluginManager::load`).
//! 2. [`Sandbox::new`]: per guest, create a WASI module instance and a `wasmedge_otel` module
//!    instance (`PluginManager::create_plugin_instance`). The plugin instance holds that guest's
//!    telemetry state: its span handles, its current-span stack, its instruments.
//! 3. [`Sandbox::vm`]: register both in a `Store` and wrap it in a `Vm`; instantiate the guest
//!    and call `_start` ([`Sandbox::run`] does it all).
//! 4. Drop the [`Sandbox`]: that deletes the plugin's module instance, whose finalizer ends the
//!    spans the guest left open and flushes the process's export pipeline. Dropping only the
//!    `Vm` does not: in wasmedge-sdk 0.14 the `Store` merely borrows the module instances.
//!
//! A sandbox is self-contained, so running K guests at once is K threads each with its own
//! sandbox ([`run_concurrently`]). What is shared by the process, not per sandbox, is described
//! in `docs/embedding.md`: the export pipeline, the configuration read from the environment, the
//! resource (`service.name`) and `TRACEPARENT`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Barrier, Mutex};

pub use wasmedge_sdk;
use wasmedge_sdk::error::{CoreCommonError, CoreError, WasmEdgeError};
use wasmedge_sdk::plugin::PluginManager;
use wasmedge_sdk::wasi::WasiModule;
use wasmedge_sdk::{Instance, Module, Store, Vm};

/// Name of the plugin, as `wasmedge --version` lists it.
pub const PLUGIN_NAME: &str = "wasmedge_otel";
/// Name of the module the plugin provides, which guests import.
pub const MODULE_NAME: &str = "wasmedge_otel";
/// Environment variable naming the plugin directory when no `--plugin-dir` is given.
pub const PLUGIN_DIR_ENV: &str = "WASMEDGE_OTEL_PLUGIN_DIR";
/// Exit status reported for a guest that trapped; the `wasmedge` 0.14.1 CLI exits with the same.
pub const TRAP_EXIT_CODE: i32 = 134;

/// Where the plugin is loaded from: `$WASMEDGE_OTEL_PLUGIN_DIR`, else `target/plugin` of this
/// repository (where `make plugin` puts it).
pub fn default_plugin_dir() -> PathBuf {
    std::env::var_os(PLUGIN_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/plugin"))
}

/// Why a guest could not be run.
#[derive(Debug)]
pub enum Error {
    /// The plugin directory does not exist.
    NoPluginDir(PathBuf),
    /// The directory was loaded but holds no `wasmedge_otel` plugin.
    PluginNotFound { dir: PathBuf, loaded: Vec<String> },
    /// A WasmEdge API call failed (`what` names it).
    WasmEdge { what: &'static str, error: Box<WasmEdgeError> },
    /// An argument, variable or preopen contains a NUL byte, which WASI cannot carry.
    Nul(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoPluginDir(dir) => write!(
                f,
                "plugin directory {} does not exist (build it with `make plugin`, or pass --plugin-dir / set {PLUGIN_DIR_ENV})",
                dir.display()
            ),
            Error::PluginNotFound { dir, loaded } => write!(
                f,
                "no {PLUGIN_NAME} plugin in {} (plugins loaded: {loaded:?})",
                dir.display()
            ),
            Error::WasmEdge { what, error } => write!(f, "{what}: {error}"),
            Error::Nul(s) => write!(f, "{s:?} contains a NUL byte"),
        }
    }
}

impl std::error::Error for Error {}

fn wasmedge(what: &'static str) -> impl FnOnce(Box<WasmEdgeError>) -> Error {
    move |error| Error::WasmEdge { what, error }
}

/// Loads every plugin in `dir` (WasmEdge scans it recursively, so give the plugin a directory of
/// its own) and checks that `wasmedge_otel` is among them. Loading a directory twice is a no-op.
///
/// Telemetry configuration is read from the process environment when the first plugin instance
/// is created, so set `OTEL_*` variables before [`Sandbox::new`].
pub fn load_plugin(dir: &Path) -> Result<(), Error> {
    static LOADED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let dir = dir.canonicalize().map_err(|_| Error::NoPluginDir(dir.to_path_buf()))?;
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if !loaded.contains(&dir) {
        PluginManager::load(Some(&dir)).map_err(wasmedge("loading plugins"))?;
        loaded.push(dir.clone());
    }
    let names = PluginManager::names();
    if names.iter().any(|n| n == PLUGIN_NAME) {
        Ok(())
    } else {
        Err(Error::PluginNotFound { dir, loaded: names })
    }
}

/// What a guest's WASI module instance is given: nothing of the host unless listed here.
#[derive(Clone, Debug, Default)]
pub struct WasiConfig {
    /// `argv`, the program name first (the `wasmedge` CLI passes the module's path).
    pub args: Vec<String>,
    /// Environment of the guest, `KEY=VALUE`. The plugin never reads it: its own configuration
    /// comes from the host process's environment.
    pub envs: Vec<String>,
    /// Directories to preopen, `GUEST_PATH:HOST_PATH`.
    pub preopens: Vec<String>,
}

impl WasiConfig {
    fn check(&self) -> Result<(), Error> {
        match self.args.iter().chain(&self.envs).chain(&self.preopens).find(|s| s.contains('\0')) {
            Some(s) => Err(Error::Nul(s.clone())),
            None => Ok(()),
        }
    }
}

/// How a guest's `_start` ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It returned, or called `proc_exit(code)`: the WASI exit code.
    Code(u32),
    /// It trapped (or WasmEdge stopped it): the error.
    Trap(String),
}

impl Exit {
    /// The process exit status the `wasmedge` CLI would report.
    pub fn status(&self) -> i32 {
        match self {
            Exit::Code(code) => *code as i32,
            Exit::Trap(_) => TRAP_EXIT_CODE,
        }
    }
}

/// One guest's world: its WASI module instance and its own `wasmedge_otel` module instance.
///
/// Field order is drop order; the plugin instance goes last. Dropping it runs the plugin's
/// finalizer: open spans are ended as unfinished and the export pipeline is flushed (bounded by
/// `WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT`, 5 s by default), on the dropping thread.
pub struct Sandbox {
    wasi: WasiModule,
    otel: Instance,
}

impl Sandbox {
    /// A fresh sandbox. The plugin must have been loaded ([`load_plugin`]).
    pub fn new(wasi: &WasiConfig) -> Result<Sandbox, Error> {
        wasi.check()?;
        fn strs(v: &[String]) -> Option<Vec<&str>> {
            Some(v.iter().map(String::as_str).collect())
        }
        let wasi = WasiModule::create(strs(&wasi.args), strs(&wasi.envs), strs(&wasi.preopens))
            .map_err(wasmedge("creating the WASI module"))?;
        let otel = PluginManager::create_plugin_instance(PLUGIN_NAME, MODULE_NAME)
            .map_err(wasmedge("creating the wasmedge_otel module instance"))?;
        Ok(Sandbox { wasi, otel })
    }

    /// A new VM whose store holds this sandbox's WASI and `wasmedge_otel` module instances.
    /// Register the guest with `vm.register_module(None, module)` and call its exports with
    /// `vm.run_func(None, name, args)`.
    pub fn vm(&mut self) -> Result<Vm<'_, Instance>, Error> {
        let mut instances: HashMap<String, &mut Instance> = HashMap::new();
        instances.insert(self.wasi.name().to_string(), self.wasi.as_mut());
        instances.insert(MODULE_NAME.to_string(), &mut self.otel);
        let store = Store::new(None, instances).map_err(wasmedge("creating the store"))?;
        Ok(Vm::new(store))
    }

    /// The exit code the guest gave WASI (`proc_exit`), 0 if it returned.
    pub fn exit_code(&self) -> u32 {
        self.wasi.exit_code()
    }

    /// Instantiates `module` and runs its `_start`, as `wasmedge module.wasm` does. Errors of
    /// instantiation (an unknown import, say) are returned; how the run ended is the [`Exit`].
    pub fn run(&mut self, module: &Module) -> Result<Exit, Error> {
        let result = {
            let mut vm = self.vm()?;
            vm.register_module(None, module.clone()).map_err(wasmedge("instantiating the guest"))?;
            vm.run_func(None, "_start", []).map(|_| ())
        };
        Ok(match result {
            Ok(()) => Exit::Code(self.exit_code()),
            // `proc_exit` unwinds the guest with this error; the code is in the WASI instance.
            Err(e) if *e == WasmEdgeError::Core(CoreError::Common(CoreCommonError::Terminated)) => {
                Exit::Code(self.exit_code())
            }
            Err(e) => Exit::Trap(e.to_string()),
        })
    }
}

/// Loads a guest module (`.wasm`, or one AOT-compiled by `wasmedge compile`).
pub fn load_module(path: &Path) -> Result<Module, Error> {
    Module::from_file(None, path).map_err(wasmedge("loading the guest module"))
}

/// Runs `instances` copies of the guest at `path` at once, one thread and one [`Sandbox`] each.
/// Every thread loads and instantiates its guest first; then all call `_start` together (a
/// barrier), so the runs overlap. `wasi(i)` gives instance `i` its WASI configuration. Returns
/// each instance's exit, in instance order; each sandbox is dropped (and so flushed) on its own
/// thread when its guest is done.
pub fn run_concurrently(
    path: &Path,
    instances: usize,
    wasi: impl Fn(usize) -> WasiConfig + Sync,
) -> Vec<Result<Exit, Error>> {
    let barrier = Barrier::new(instances);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..instances)
            .map(|i| {
                let (barrier, wasi) = (&barrier, &wasi);
                std::thread::Builder::new()
                    .name(format!("guest-{i}"))
                    .spawn_scoped(scope, move || {
                        let prepared = load_module(path).and_then(|module| {
                            let sandbox = Sandbox::new(&wasi(i))?;
                            Ok((module, sandbox))
                        });
                        // Every thread reaches the barrier, even one whose set-up failed.
                        barrier.wait();
                        let (module, mut sandbox) = prepared?;
                        sandbox.run(&module)
                    })
                    .expect("spawn a guest thread")
            })
            .collect();
        threads.into_iter().map(|t| t.join().expect("guest thread panicked")).collect()
    })
}
