//! First pass: what the module has, what its functions look like, and where its stack pointer is.

use std::collections::HashMap;

use wasmparser::{
    CompositeInnerType, ExternalKind, KnownCustom, Name, Operator, Parser, Payload, TypeRef, ValType,
};

use crate::{abi, Error, MARKER_SECTION};

/// Order of the standard sections in a module (the tag section sits between memory and global,
/// data count between element and code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Sec {
    Type,
    Import,
    Function,
    Table,
    Memory,
    Tag,
    Global,
    Export,
    Start,
    Element,
    DataCount,
    Code,
    Data,
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Sig {
    pub params: Vec<ValType>,
    pub results: Vec<ValType>,
}

/// Facts about one function body.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BodyStats {
    pub instructions: u32,
    pub calls: bool,
}

pub(crate) struct Scan<'a> {
    /// Number of entries in the type index space.
    pub type_count: u32,
    /// Signature of each function type (None for other composite types).
    pub type_sigs: Vec<Option<Sig>>,
    /// Plain function types (a rec group of one, final, no supertype, not shared), which any new
    /// definition of the same signature would be equivalent to.
    pub plain_types: HashMap<Sig, u32>,
    /// Number of imported functions.
    pub func_imports: u32,
    /// Type index of every function (imports first).
    pub func_types: Vec<u32>,
    /// Existing `wasmedge_otel` function imports: index by import name.
    pub otel_imports: HashMap<&'a str, u32>,
    /// Number of memories (imported and defined).
    pub memories: u32,
    /// `(content type, mutable)` of every global (imports first).
    pub globals: Vec<(ValType, bool)>,
    pub exported_globals: Vec<u32>,
    /// The first export name of each exported function.
    pub export_names: HashMap<u32, &'a str>,
    /// Names from the name section.
    pub func_names: HashMap<u32, &'a str>,
    pub global_names: HashMap<u32, &'a str>,
    /// Number of data segments.
    pub data_segments: u32,
    /// Which standard sections are present.
    pub present: Vec<Sec>,
    /// Per defined function.
    pub bodies: Vec<BodyStats>,
    /// For each global, how many times the code allocates a frame through it
    /// (`global.get G; i32.const N; i32.sub`).
    pub frame_allocs: HashMap<u32, u32>,
    pub warnings: Vec<String>,
}

impl<'a> Scan<'a> {
    pub fn new(input: &'a [u8]) -> Result<Self, Error> {
        let mut s = Scan {
            type_count: 0,
            type_sigs: Vec::new(),
            plain_types: HashMap::new(),
            func_imports: 0,
            func_types: Vec::new(),
            otel_imports: HashMap::new(),
            memories: 0,
            globals: Vec::new(),
            exported_globals: Vec::new(),
            export_names: HashMap::new(),
            func_names: HashMap::new(),
            global_names: HashMap::new(),
            data_segments: 0,
            present: Vec::new(),
            bodies: Vec::new(),
            frame_allocs: HashMap::new(),
            warnings: Vec::new(),
        };
        for payload in Parser::new(0).parse_all(input) {
            match payload? {
                Payload::Version { encoding: wasmparser::Encoding::Component, .. } => {
                    return Err(Error::Unsupported(
                        "a component; instrument the core modules inside it before composing".into(),
                    ));
                }
                Payload::TypeSection(reader) => {
                    s.present.push(Sec::Type);
                    for group in reader {
                        let group = group?;
                        let single = !group.is_explicit_rec_group() && group.types().len() == 1;
                        for sub in group.types() {
                            let index = s.type_count;
                            s.type_count += 1;
                            let sig = match &sub.composite_type.inner {
                                CompositeInnerType::Func(f) => {
                                    Some(Sig { params: f.params().to_vec(), results: f.results().to_vec() })
                                }
                                _ => None,
                            };
                            if let Some(sig) = &sig {
                                let plain = single
                                    && sub.is_final
                                    && sub.supertype_idx.is_none()
                                    && !sub.composite_type.shared
                                    && sub.composite_type.descriptor_idx.is_none()
                                    && sub.composite_type.describes_idx.is_none();
                                if plain {
                                    s.plain_types.entry(sig.clone()).or_insert(index);
                                }
                            }
                            s.type_sigs.push(sig);
                        }
                    }
                }
                Payload::ImportSection(reader) => {
                    s.present.push(Sec::Import);
                    for import in reader.into_imports() {
                        let import = import?;
                        match import.ty {
                            TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                                let index = s.func_imports;
                                s.func_imports += 1;
                                s.func_types.push(ty);
                                if import.module == abi::MODULE_NAME {
                                    s.otel_imports.entry(import.name).or_insert(index);
                                }
                            }
                            TypeRef::Memory(_) => s.memories += 1,
                            TypeRef::Global(g) => s.globals.push((g.content_type, g.mutable)),
                            _ => {}
                        }
                    }
                }
                Payload::FunctionSection(reader) => {
                    s.present.push(Sec::Function);
                    for ty in reader {
                        s.func_types.push(ty?);
                    }
                }
                Payload::TableSection(_) => s.present.push(Sec::Table),
                Payload::MemorySection(reader) => {
                    s.present.push(Sec::Memory);
                    s.memories += reader.count();
                }
                Payload::TagSection(_) => s.present.push(Sec::Tag),
                Payload::GlobalSection(reader) => {
                    s.present.push(Sec::Global);
                    for g in reader {
                        let g = g?;
                        s.globals.push((g.ty.content_type, g.ty.mutable));
                    }
                }
                Payload::ExportSection(reader) => {
                    s.present.push(Sec::Export);
                    for e in reader {
                        let e = e?;
                        match e.kind {
                            ExternalKind::Func | ExternalKind::FuncExact => {
                                s.export_names.entry(e.index).or_insert(e.name);
                            }
                            ExternalKind::Global => s.exported_globals.push(e.index),
                            _ => {}
                        }
                    }
                }
                Payload::StartSection { .. } => s.present.push(Sec::Start),
                Payload::ElementSection(_) => s.present.push(Sec::Element),
                Payload::DataCountSection { .. } => s.present.push(Sec::DataCount),
                Payload::DataSection(reader) => {
                    s.present.push(Sec::Data);
                    s.data_segments = reader.count();
                }
                Payload::CodeSectionStart { .. } => s.present.push(Sec::Code),
                Payload::CodeSectionEntry(body) => {
                    let stats = s.scan_body(&body)?;
                    s.bodies.push(stats);
                }
                Payload::CustomSection(reader) => {
                    let name = reader.name();
                    if name == MARKER_SECTION {
                        return Err(Error::Unsupported(
                            "the module is already instrumented (it has a wasmedge_otel.instrumented section)"
                                .into(),
                        ));
                    }
                    if name == "linking" || name.starts_with("reloc.") {
                        return Err(Error::Unsupported(format!(
                            "a relocatable object file (custom section `{name}`); instrument the linked module"
                        )));
                    }
                    if let KnownCustom::Name(reader) = reader.as_known() {
                        if let Err(e) = s.read_names(reader) {
                            s.warnings
                                .push(format!("the name section could not be read ({e}); it is dropped"));
                            s.func_names.clear();
                            s.global_names.clear();
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(s)
    }

    fn read_names(&mut self, reader: wasmparser::NameSectionReader<'a>) -> wasmparser::Result<()> {
        for sub in reader {
            match sub? {
                Name::Function(map) => {
                    for n in map {
                        let n = n?;
                        self.func_names.insert(n.index, n.name);
                    }
                }
                Name::Global(map) => {
                    for n in map {
                        let n = n?;
                        self.global_names.insert(n.index, n.name);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn scan_body(&mut self, body: &wasmparser::FunctionBody<'a>) -> Result<BodyStats, Error> {
        let mut stats = BodyStats::default();
        let mut reader = body.get_operators_reader()?;
        // The last two operators, to spot `global.get G; i32.const N; i32.sub`.
        let mut prev2: Option<u32> = None; // G when the operator before the previous was global.get G
        let mut prev1_get: Option<u32> = None;
        let mut prev1_const = false;
        while !reader.eof() {
            let op = reader.read()?;
            stats.instructions += 1;
            let mut get = None;
            let mut is_const = false;
            match op {
                Operator::Call { .. }
                | Operator::CallIndirect { .. }
                | Operator::CallRef { .. }
                | Operator::ReturnCall { .. }
                | Operator::ReturnCallIndirect { .. }
                | Operator::ReturnCallRef { .. } => stats.calls = true,
                Operator::GlobalGet { global_index } => get = Some(global_index),
                Operator::I32Const { .. } => is_const = true,
                Operator::I32Sub => {
                    if let (Some(g), true) = (prev2, prev1_const) {
                        *self.frame_allocs.entry(g).or_insert(0) += 1;
                    }
                }
                _ => {}
            }
            prev2 = if is_const { prev1_get } else { None };
            prev1_get = get;
            prev1_const = is_const;
        }
        // The final `end` is not an instruction of the body.
        stats.instructions = stats.instructions.saturating_sub(1);
        Ok(stats)
    }

    /// Whether the module has standard section `sec`.
    pub fn has(&self, sec: Sec) -> bool {
        self.present.contains(&sec)
    }

    /// The signature of function `index`.
    pub fn func_sig(&self, index: u32) -> Option<&Sig> {
        let ty = *self.func_types.get(index as usize)?;
        self.type_sigs.get(ty as usize)?.as_ref()
    }

    /// The stack pointer global, and how it was found:
    /// 1. the global named `__stack_pointer` in the name section;
    /// 2. else the mutable `i32` global through which the code allocates frames most often
    ///    (`global.get G; i32.const N; i32.sub`, LLVM's prologue);
    /// 3. else the first exported mutable `i32` global.
    ///
    /// A candidate must be a mutable `i32` global.
    pub fn stack_pointer(&self) -> Option<(u32, &'static str)> {
        let usable = |g: u32| matches!(self.globals.get(g as usize), Some((ValType::I32, true)));
        if let Some((&g, _)) = self.global_names.iter().find(|(_, &n)| n == "__stack_pointer") {
            return usable(g).then_some((g, "named __stack_pointer in the name section"));
        }
        let by_code = self
            .frame_allocs
            .iter()
            .filter(|(&g, _)| usable(g))
            .max_by_key(|(&g, &n)| (n, std::cmp::Reverse(g)))
            .map(|(&g, _)| g);
        if let Some(g) = by_code {
            return Some((g, "used by the code to allocate stack frames"));
        }
        let mut exported: Vec<u32> = self.exported_globals.iter().copied().filter(|&g| usable(g)).collect();
        exported.sort_unstable();
        exported.first().map(|&g| (g, "the first exported mutable i32 global"))
    }
}
