//! Every WGSL file in shaders/ (and the render shader in shaders/render/) is parsed and validated
//! with naga (as the kernels are compiled:
//! shared prelude + kernel), so a broken shader fails CI on a machine without a GPU; and the
//! kernel registry is checked against shaders/: every file registered, each kernel's binding
//! count as its Rust `bind` function has it, and every host <-> shader struct of the same size on
//! both sides.

use znfield::backend::gpu::kernel::COMMON_WGSL;
use znfield::backend::gpu::kernels::REGISTRY;
use znfield::backend::gpu::layout::{
    BicgMode, BicgState, BlockDims, DefectParams, Dims, InverseParams, LincombSlots, PcgState, ProductDims,
};
use znfield::backend::gpu::transport_jacobian::{JacobianBlock, JacobianParams, ReactionParams};

fn parse(name: &str, source: &str) -> Result<naga::Module, String> {
    naga::front::wgsl::parse_str(source).map_err(|e| format!("{name}: parse error:\n{}", e.emit_to_string(source)))
}

fn validate(name: &str, source: &str, capabilities: naga::valid::Capabilities) -> Result<(), String> {
    let module = parse(name, source)?;
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), capabilities)
        .validate(&module)
        .map_err(|e| format!("{name}: validation error:\n{}", e.emit_to_string(source)))?;
    Ok(())
}

#[test]
fn every_kernel_file_is_valid_wgsl() {
    for kernel in REGISTRY {
        let full = format!("{COMMON_WGSL}\n{}", kernel.source);
        // An f64 kernel needs FLOAT64 (SHADER_F64) and must fail without it: no other kernel
        // may use f64, which a device without SHADER_F64 could not compile.
        let capabilities = if kernel.needs_f64 { naga::valid::Capabilities::FLOAT64 } else { naga::valid::Capabilities::empty() };
        if kernel.needs_f64 {
            assert!(validate(kernel.file, &full, naga::valid::Capabilities::empty()).is_err(), "{} uses no f64", kernel.file);
        }
        if let Err(e) = validate(kernel.file, &full, capabilities) {
            panic!("{e}");
        }
    }
}

/// The bindings of group 0 that the kernel's entry point uses (naga drops nothing it parses, so
/// the prelude's unused declarations are counted only where the kernel declares them).
fn group0_bindings(module: &naga::Module) -> Vec<u32> {
    let mut bindings: Vec<u32> = module
        .global_variables
        .iter()
        .filter_map(|(_, var)| var.binding.as_ref())
        .filter(|b| b.group == 0)
        .map(|b| b.binding)
        .collect();
    bindings.sort_unstable();
    bindings
}

#[test]
fn each_kernel_binds_as_many_buffers_as_its_wgsl_declares() {
    for kernel in REGISTRY {
        let module = parse(kernel.file, &format!("{COMMON_WGSL}\n{}", kernel.source)).expect("parses");
        let declared = group0_bindings(&module);
        let expected: Vec<u32> = (0..kernel.bindings as u32).collect();
        assert_eq!(
            declared, expected,
            "{}: bindings in the WGSL vs BINDINGS = {} in the Rust module",
            kernel.file, kernel.bindings
        );
    }
}

/// The size naga lays a WGSL struct out at.
fn wgsl_struct_size(source: &str, name: &str) -> u32 {
    let module = parse(name, source).expect("parses");
    let size = module.types.iter().find_map(|(_, ty)| match (&ty.name, &ty.inner) {
        (Some(n), naga::TypeInner::Struct { span, .. }) if n == name => Some(*span),
        _ => None,
    });
    size.unwrap_or_else(|| panic!("no struct {name} in the WGSL"))
}

#[test]
fn host_structs_have_the_sizes_of_their_wgsl_twins() {
    let file = |name: &str| REGISTRY.iter().find(|k| k.file == name).map(|k| format!("{COMMON_WGSL}\n{}", k.source));
    let jacobian = file("transport_jacobian.wgsl").expect("registered");
    let cases: [(&str, &str, usize); 12] = [
        (COMMON_WGSL, "Dims", std::mem::size_of::<Dims>()),
        (COMMON_WGSL, "PcgState", std::mem::size_of::<PcgState>()),
        (COMMON_WGSL, "BicgState", std::mem::size_of::<BicgState>()),
        (COMMON_WGSL, "LincombSlots", std::mem::size_of::<LincombSlots>()),
        (&jacobian, "JacobianParams", std::mem::size_of::<JacobianParams>()),
        (&jacobian, "ReactionParams", std::mem::size_of::<ReactionParams>()),
        (&jacobian, "JacobianBlock", std::mem::size_of::<JacobianBlock>()),
        (&file("bicgstab_scalars.wgsl").expect("registered"), "Mode", std::mem::size_of::<BicgMode>()),
        (&file("block_scale.wgsl").expect("registered"), "BlockDims", std::mem::size_of::<BlockDims>()),
        (&file("block_inverse.wgsl").expect("registered"), "InverseParams", std::mem::size_of::<InverseParams>()),
        (&file("spgemm_values.wgsl").expect("registered"), "ProductDims", std::mem::size_of::<ProductDims>()),
        (&file("defect_f64.wgsl").expect("registered"), "DefectParams", std::mem::size_of::<DefectParams>()),
    ];
    for (source, name, host) in cases {
        assert_eq!(wgsl_struct_size(source, name) as usize, host, "struct {name}: WGSL size vs host size");
    }
}

#[test]
fn every_wgsl_file_on_disk_is_a_registered_kernel() {
    let mut on_disk: Vec<String> = std::fs::read_dir("shaders")
        .expect("shaders/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wgsl"))
        .collect();
    on_disk.sort();
    let mut registered: Vec<String> = REGISTRY.iter().map(|k| k.file.to_string()).collect();
    registered.sort();
    assert_eq!(on_disk, registered, "every shaders/*.wgsl must be compiled and validated");
}

#[test]
fn a_broken_shader_is_rejected() {
    let broken = format!("{COMMON_WGSL}\n@compute @workgroup_size(64) fn main() {{ let x: f32 = 1u; }}");
    assert!(validate("broken", &broken, naga::valid::Capabilities::empty()).is_err());
}

/// The render shader of the 3D view (shaders/render/, not a compute kernel) is valid WGSL, and
/// its uniform and vertex have the host's layout.
#[test]
fn the_view_render_shader_is_valid_and_matches_its_host_structs() {
    use znfield::output::maps::view3d_gpu::{ViewUniform, ViewVertex, VIEW3D_WGSL};
    validate("render/view3d.wgsl", VIEW3D_WGSL, naga::valid::Capabilities::empty()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(wgsl_struct_size(VIEW3D_WGSL, "View") as usize, std::mem::size_of::<ViewUniform>());
    // The vertex input: vec3 + f32 + vec2, packed as the vertex buffer's 24-byte stride.
    assert_eq!(std::mem::size_of::<ViewVertex>(), 24);
    let on_disk: Vec<String> = std::fs::read_dir("shaders/render")
        .expect("shaders/render/")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert_eq!(on_disk, ["view3d.wgsl"], "every render shader is validated here");
}
