//! One module per WGSL kernel in `shaders/`, and the registry generated from one list: the
//! [`Kernels`] a device compiles and the [`REGISTRY`] that tests/shaders.rs checks against
//! shaders/ with naga (every file registered, each kernel's binding count, the host structs'
//! sizes). To add a kernel: write `shaders/<name>.wgsl`, add `<name>.rs` with `SOURCE`,
//! `BINDINGS`, `SHAPE` and its `bind` function (follow spmv.rs), and add `<name>` to the list below.

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
}

macro_rules! registry {
    ($($name:ident),* $(,)?) => {
        $(pub mod $name;)*

        /// Every compiled kernel, created once per device.
        pub struct Kernels {
            $(pub $name: Kernel,)*
        }

        impl Kernels {
            /// Compiles all kernels.
            pub fn build(device: &wgpu::Device) -> Self {
                Kernels { $($name: Kernel::new(device, stringify!($name), $name::SOURCE, $name::SHAPE, $name::BINDINGS),)* }
            }
        }

        /// Every kernel, for validation.
        pub const REGISTRY: &[Registered] = &[$(Registered {
            name: stringify!($name),
            file: concat!(stringify!($name), ".wgsl"),
            source: $name::SOURCE,
            bindings: $name::BINDINGS,
        },)*];
    };
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
    block_inverse,
);
