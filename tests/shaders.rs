//! Every WGSL file in shaders/ is parsed and validated with naga (as the kernels are compiled:
//! shared prelude + kernel), so a broken shader fails CI on a machine without a GPU.

use znfield::backend::gpu::kernel::COMMON_WGSL;
use znfield::backend::gpu::kernels::ALL_SOURCES;

fn validate(name: &str, source: &str) -> Result<(), String> {
    let module =
        naga::front::wgsl::parse_str(source).map_err(|e| format!("{name}: parse error:\n{}", e.emit_to_string(source)))?;
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
        .validate(&module)
        .map_err(|e| format!("{name}: validation error:\n{}", e.emit_to_string(source)))?;
    Ok(())
}

#[test]
fn every_kernel_file_is_valid_wgsl() {
    for (name, source) in ALL_SOURCES {
        let full = format!("{COMMON_WGSL}\n{source}");
        if let Err(e) = validate(name, &full) {
            panic!("{e}");
        }
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
    let mut registered: Vec<String> = ALL_SOURCES.iter().map(|(n, _)| n.to_string()).collect();
    registered.sort();
    assert_eq!(on_disk, registered, "every shaders/*.wgsl must be compiled and validated");
}

#[test]
fn a_broken_shader_is_rejected() {
    let broken = format!("{COMMON_WGSL}\n@compute @workgroup_size(64) fn main() {{ let x: f32 = 1u; }}");
    assert!(validate("broken", &broken).is_err());
}
