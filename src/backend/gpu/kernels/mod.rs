//! One module per WGSL kernel in `shaders/`, and the registry generated from one list: the
//! [`Kernels`] a device compiles and the [`REGISTRY`] that tests/shaders.rs checks against
//! shaders/ with naga (every file registered, each kernel's binding count, the host structs'
//! sizes). To add a kernel: write `shaders/<name>.wgsl`, add `<name>.rs` with `SOURCE`,
//! `BINDINGS`, `SHAPE` and its `bind` function (follow spmv.rs), and add `<name>` to the list below
//! (after `f64:` if it uses f64, which only a device with SHADER_F64 compiles).

use super::kernel::Kernel;

/// A kernel as the registry knows it.
#[derive(Debug, Clone, Copy)]
pub struct Registered {
    /// Module and pipeline name.
    pub name: &'static str,
    /// File in shaders/.
    pub file: &'static str,
    /// WGSL source without the shared prelude.
    pub source: &'static str,
    /// Buffers bound at group 0 by the kernel's `bind` function.
    pub bindings: usize,
    /// Whether it uses f64 (SHADER_F64; naga's FLOAT64 capability).
    pub needs_f64: bool,
}

macro_rules! registry {
    ($($name:ident),* $(,)?; f64: $($wide:ident),* $(,)?) => {
        $(pub mod $name;)*
        $(pub mod $wide;)*

        /// Every compiled kernel, created once per device.
        pub struct Kernels {
            $(pub $name: Kernel,)*
            $(
                /// Compiled only where the device has SHADER_F64.
                pub $wide: Option<Kernel>,
            )*
        }

        impl Kernels {
            /// Compiles all kernels (the f64 ones where the device has SHADER_F64).
            pub fn build(device: &wgpu::Device) -> Self {
                let f64_ok = device.features().contains(wgpu::Features::SHADER_F64);
                Kernels {
                    $($name: Kernel::new(device, stringify!($name), $name::SOURCE, $name::SHAPE, $name::BINDINGS),)*
                    $($wide: f64_ok.then(|| optional(device, stringify!($wide), $wide::SOURCE, $wide::SHAPE, $wide::BINDINGS)).flatten(),)*
                }
            }
        }

        /// Every kernel, for validation.
        pub const REGISTRY: &[Registered] = &[
            $(Registered {
                name: stringify!($name),
                file: concat!(stringify!($name), ".wgsl"),
                source: $name::SOURCE,
                bindings: $name::BINDINGS,
                needs_f64: false,
            },)*
            $(Registered {
                name: stringify!($wide),
                file: concat!(stringify!($wide), ".wgsl"),
                source: $wide::SOURCE,
                bindings: $wide::BINDINGS,
                needs_f64: true,
            },)*
        ];
    };
}

/// Compiles a kernel that the device may reject although it advertises what the kernel needs
/// (f64 on some drivers): None then, and the callers take their f32 path, instead of the whole
/// context failing.
fn optional(
    device: &wgpu::Device,
    label: &'static str,
    source: &str,
    shape: super::kernel::Shape,
    bindings: usize,
) -> Option<Kernel> {
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let kernel = Kernel::new(device, label, source, shape, bindings);
    pollster::block_on(scope.pop()).is_none().then_some(kernel)
}

registry!(
    spmv,
    dot_partial,
    pcg_start,
    pcg_begin,
    pcg_alpha,
    pcg_update_xr,
    pcg_beta,
    pcg_update_p,
    lincomb3,
    diag_scale,
    dot2_partial,
    bicgstab_scalars,
    block_scale,
    transport_jacobian,
    spgemm_values,
    block_inverse;
    f64: residual_f64, defect_f64,
);
