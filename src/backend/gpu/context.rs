//! The long-lived GPU context: instance, adapter choice, device with the adapter's real limits,
//! every compiled kernel, buffer helpers and error capture.
//!
//! wgpu's default handler panics on validation errors and device loss; the context installs
//! handlers that record the message instead, so a solve reports a device failure as data.

use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use super::kernels::{spmv, Kernels};
use super::layout::Dims;

/// A CSR matrix on the device (f32 values) as row blocks, each within the adapter's storage
/// binding limit: one block unless the matrix is larger than one binding may be.
pub struct DeviceCsr {
    pub blocks: Vec<CsrBlock>,
}

/// Consecutive rows of a [`DeviceCsr`]: the `row_ptr` (from 0), `col_idx` (global columns) and
/// `vals` of `spmv.wgsl`, and the dims (row count and first row) its dispatch uses.
pub struct CsrBlock {
    /// Its entries' positions in the host matrix.
    pub entries: std::ops::Range<usize>,
    pub dims: Dims,
    pub dims_buf: wgpu::Buffer,
    pub row_ptr: wgpu::Buffer,
    pub col_idx: wgpu::Buffer,
    pub values: wgpu::Buffer,
}

/// y = A x recorded as one `spmv` dispatch per row block.
pub struct SpmvOp {
    groups: Vec<(wgpu::BindGroup, Dims)>,
}

impl DeviceCsr {
    /// The SpMV y = A x between two device vectors of the matrix's size.
    pub fn spmv(&self, ctx: &GpuContext, x: &wgpu::Buffer, y: &wgpu::Buffer) -> SpmvOp {
        let groups = self
            .blocks
            .iter()
            .map(|b| {
                let group = spmv::bind(&ctx.kernels.spmv, &ctx.device, &b.dims_buf, &b.row_ptr, &b.col_idx, &b.values, x, y);
                (group, b.dims)
            })
            .collect();
        SpmvOp { groups }
    }
}

impl DeviceCsr {
    /// Writes new values of a matrix with the uploaded one's pattern (f32).
    pub fn write_values(&self, ctx: &GpuContext, a: &crate::fem::CsrMatrix) {
        for b in self.blocks.iter().filter(|b| !b.entries.is_empty()) {
            let v: Vec<f32> = a.values[b.entries.clone()].iter().map(|&x| x as f32).collect();
            ctx.write(&b.values, 0, bytemuck::cast_slice(&v));
        }
    }
}

impl DeviceCsr {
    /// Copies values that are already on the device (`parts`: buffers of f32 values, each with
    /// the range of the pattern's entries it holds, in order and covering them) into this matrix
    /// of the same pattern: device to device, nothing through the host.
    pub fn copy_values_from(&self, ctx: &GpuContext, parts: &[(std::ops::Range<usize>, wgpu::Buffer)]) -> Result<(), String> {
        let nnz = self.blocks.last().map_or(0, |b| b.entries.end);
        if parts.last().map_or(0, |(r, _)| r.end) != nnz {
            return Err(format!("device values of {} entries for a matrix of {nnz}", parts.last().map_or(0, |(r, _)| r.end)));
        }
        let mut enc = ctx.device.create_command_encoder(&Default::default());
        for block in &self.blocks {
            for (range, buffer) in parts {
                let (lo, hi) = (range.start.max(block.entries.start), range.end.min(block.entries.end));
                if lo < hi {
                    let (from, to) = ((lo - range.start) as u64 * 4, (lo - block.entries.start) as u64 * 4);
                    enc.copy_buffer_to_buffer(buffer, from, &block.values, to, (hi - lo) as u64 * 4);
                }
            }
        }
        ctx.queue.submit([enc.finish()]);
        Ok(())
    }
}

impl SpmvOp {
    /// Records the dispatches into `pass`.
    pub fn record(&self, ctx: &GpuContext, pass: &mut wgpu::ComputePass<'_>) {
        for (group, dims) in &self.groups {
            ctx.kernels.spmv.dispatch(pass, group, dims);
        }
    }

    /// Number of row blocks (dispatches).
    pub fn blocks(&self) -> usize {
        self.groups.len()
    }
}

/// Splits rows `0..n` of a CSR pattern into consecutive blocks whose entries (and row pointers)
/// each take at most `limit` bytes as 4-byte values; None if a single row is over it.
fn row_blocks(row_ptr: &[u32], limit: u64) -> Option<Vec<std::ops::Range<usize>>> {
    let n = row_ptr.len() - 1;
    let per_block = (limit / 4) as usize;
    let mut blocks = Vec::new();
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end < n && (row_ptr[end + 1] - row_ptr[start]) as usize <= per_block && end + 2 - start <= per_block {
            end += 1;
        }
        if end == start {
            return None;
        }
        blocks.push(start..end);
        start = end;
    }
    Some(blocks)
}

/// Device, queue and kernels for one adapter.
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub kernels: Kernels,
    /// Whether the device has timestamp queries (per-kernel GPU times in `znfield bench`).
    pub timestamps: bool,
    errors: Arc<Mutex<Vec<String>>>,
    /// Bytes of the buffers created through this context so far.
    allocated: std::sync::atomic::AtomicU64,
    /// The most device memory one solve's buffers took, bytes (see [`GpuContext::measure`]).
    peak: std::sync::atomic::AtomicU64,
    /// Bytes written to the device (buffers created with contents, queue writes) and read back
    /// from it, since the context opened ([`GpuContext::transfers`]).
    uploaded: std::sync::atomic::AtomicU64,
    downloaded: std::sync::atomic::AtomicU64,
    /// Nanoseconds the host spent waiting for the device in [`GpuContext::map_read`].
    waited_ns: std::sync::atomic::AtomicU64,
    /// Device-assembled Jacobians read back ([`GpuContext::count_jacobian_read_back`]).
    jacobian_read_backs: std::sync::atomic::AtomicU64,
}

/// Host <-> device traffic of a context, bytes, the time the host waited for the device, and
/// the Jacobians read back.
pub type Transfers = crate::solve::linear::DeviceTransfers;

fn instance() -> wgpu::Instance {
    // Honours WGPU_BACKEND and friends (Instance::default() would ignore them).
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

fn all_adapters() -> Vec<wgpu::Adapter> {
    pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()))
}

/// Preference order of adapters: hardware first, software (lavapipe, llvmpipe) last.
fn rank(info: &wgpu::AdapterInfo) -> u8 {
    match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

fn is_hardware(info: &wgpu::AdapterInfo) -> bool {
    rank(info) <= 2
}

/// Compute-capable adapters (GL adapters without compute are skipped), best first.
fn compute_adapters() -> Vec<wgpu::Adapter> {
    let mut adapters: Vec<_> = all_adapters()
        .into_iter()
        .filter(|a| a.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS))
        .collect();
    adapters.sort_by_key(|a| rank(&a.get_info()));
    adapters
}

/// One line per adapter wgpu finds, and which one `--backend auto` would use.
pub fn describe_adapters() -> String {
    let adapters = all_adapters();
    let mut out = String::new();
    if adapters.is_empty() {
        out.push_str(
            "no GPU adapters found (install a Vulkan driver; on Debian: apt-get install mesa-vulkan-drivers libvulkan1)\n",
        );
    }
    for (i, a) in adapters.iter().enumerate() {
        let info = a.get_info();
        let l = a.limits();
        let f64_support = a.features().contains(wgpu::Features::SHADER_F64);
        let compute = a.get_downlevel_capabilities().flags.contains(wgpu::DownlevelFlags::COMPUTE_SHADERS);
        out.push_str(&format!(
            "[{i}] {} | backend {:?} | type {:?} | driver {} {} | compute {} | f64 {} | max storage binding {} MiB | max buffer {} MiB | storage buffers/stage {}\n",
            info.name,
            info.backend,
            info.device_type,
            info.driver,
            info.driver_info,
            if compute { "yes" } else { "no" },
            if f64_support { "yes" } else { "no" },
            l.max_storage_buffer_binding_size / (1 << 20),
            l.max_buffer_size / (1 << 20),
            l.max_storage_buffers_per_shader_stage,
        ));
    }
    let auto = compute_adapters().into_iter().find(|a| is_hardware(&a.get_info()));
    match auto {
        Some(a) => out.push_str(&format!("auto: GPU backend on {}\n", a.get_info().name)),
        None => out
            .push_str("auto: CPU backend (no hardware GPU adapter; `--backend gpu` uses a software adapter if one is listed)\n"),
    }
    out
}

/// `ZNFIELD_GPU_MAX_BINDING_BYTES`: a storage binding size below the adapter's, requested from
/// the device (to leave room on a shared GPU, or to see how a large problem meets the limit).
pub const BINDING_CAP_ENV: &str = "ZNFIELD_GPU_MAX_BINDING_BYTES";

fn binding_cap() -> Result<Option<u64>, String> {
    match std::env::var(BINDING_CAP_ENV) {
        Err(_) => Ok(None),
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&b| b >= 256)
            .map(Some)
            .ok_or_else(|| format!("{BINDING_CAP_ENV}={v}: expected a number of bytes >= 256")),
    }
}

impl GpuContext {
    /// Opens the best adapter; with `hardware_only`, software adapters are refused. The storage
    /// binding limit is the adapter's, or lower with `ZNFIELD_GPU_MAX_BINDING_BYTES`.
    pub fn new(hardware_only: bool) -> Result<Self, String> {
        Self::with_binding_cap(hardware_only, binding_cap()?)
    }

    /// As [`GpuContext::new`] with the storage binding limit capped at `cap` bytes (tests of
    /// matrices split across bindings).
    pub fn with_binding_cap(hardware_only: bool, cap: Option<u64>) -> Result<Self, String> {
        Self::open(hardware_only, cap, true)
    }

    /// As [`GpuContext::new`] on a device opened without SHADER_F64 even where the adapter has it
    /// (tests of the f32-only path that such an adapter takes).
    pub fn without_f64(hardware_only: bool) -> Result<Self, String> {
        Self::open(hardware_only, binding_cap()?, false)
    }

    /// Whether the device runs f64 kernels (SHADER_F64): the f64 residual of the defect
    /// correction then stays on the device.
    pub fn has_f64(&self) -> bool {
        self.device.features().contains(wgpu::Features::SHADER_F64)
    }

    fn open(hardware_only: bool, cap: Option<u64>, want_f64: bool) -> Result<Self, String> {
        let adapters = compute_adapters();
        let adapter = adapters
            .into_iter()
            .find(|a| !hardware_only || is_hardware(&a.get_info()))
            .ok_or_else(|| {
                if hardware_only {
                    "no hardware GPU adapter found".to_string()
                } else {
                    "no GPU adapter with compute shaders found (install a Vulkan driver, e.g. Debian's mesa-vulkan-drivers + libvulkan1 for the software adapter)".to_string()
                }
            })?;
        let info = adapter.get_info();
        let mut limits = adapter.limits();
        if let Some(cap) = cap {
            limits.max_storage_buffer_binding_size = limits.max_storage_buffer_binding_size.min(cap);
        }
        if limits.max_storage_buffers_per_shader_stage < 8 {
            return Err(format!(
                "adapter {} allows {} storage buffers per stage; the kernels need 8",
                info.name, limits.max_storage_buffers_per_shader_stage
            ));
        }
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("znfield"),
            required_features: adapter.features()
                & (wgpu::Features::TIMESTAMP_QUERY | if want_f64 { wgpu::Features::SHADER_F64 } else { wgpu::Features::empty() }),
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| format!("cannot open device on {}: {e}", info.name))?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let lost = errors.clone();
        device.set_device_lost_callback(move |reason, msg| {
            if let Ok(mut v) = lost.lock() {
                v.push(format!("device lost ({reason:?}): {msg}"));
            }
        });
        let kernels = Kernels::build(&device);
        let timestamps = device.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let ctx = GpuContext {
            device,
            queue,
            info,
            limits,
            kernels,
            timestamps,
            errors,
            allocated: 0.into(),
            peak: 0.into(),
            uploaded: 0.into(),
            downloaded: 0.into(),
            waited_ns: 0.into(),
            jacobian_read_backs: 0.into(),
        };
        ctx.check().map_err(|e| format!("kernel compilation on {}: {e}", ctx.info.name))?;
        Ok(ctx)
    }

    /// Runs `upload` and records the bytes of the buffers it created as a solve's footprint;
    /// [`GpuContext::peak_solve_bytes`] keeps the largest.
    pub fn measure<T>(&self, upload: impl FnOnce() -> T) -> T {
        use std::sync::atomic::Ordering::Relaxed;
        let before = self.allocated.load(Relaxed);
        let out = upload();
        self.peak.fetch_max(self.allocated.load(Relaxed) - before, Relaxed);
        out
    }

    /// Bytes of all buffers created through this context so far.
    pub fn allocated_bytes(&self) -> u64 {
        self.allocated.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The largest device footprint of one solve so far, bytes.
    pub fn peak_solve_bytes(&self) -> u64 {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count(&self, bytes: u64) {
        self.allocated.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// "name (backend, device type)".
    pub fn adapter_summary(&self) -> String {
        format!("{} ({:?}, {:?})", self.info.name, self.info.backend, self.info.device_type)
    }

    /// Errors recorded since the last check, as one message.
    pub fn check(&self) -> Result<(), String> {
        let mut errs = self.errors.lock().map_err(|_| "GPU error log poisoned".to_string())?;
        if errs.is_empty() {
            Ok(())
        } else {
            let msg = errs.join("; ");
            errs.clear();
            Err(msg)
        }
    }

    /// Checks that a buffer of `bytes` fits the adapter's binding limit.
    pub fn fits(&self, what: &str, bytes: u64) -> Result<(), String> {
        let limit = self.binding_limit();
        if bytes > limit {
            let capped =
                if std::env::var(BINDING_CAP_ENV).is_ok() { format!(" (capped by {BINDING_CAP_ENV})") } else { String::new() };
            Err(format!(
                "{what}: {bytes} bytes, over the storage binding limit of {limit} bytes{capped} on {}: \
                 the problem is too large for this GPU; use --backend cpu or a coarser mesh",
                self.info.name
            ))
        } else {
            Ok(())
        }
    }

    /// A storage buffer holding `data` as f32.
    pub fn storage_f32(&self, label: &str, data: &[f64]) -> wgpu::Buffer {
        let v: Vec<f32> = data.iter().map(|&x| x as f32).collect();
        self.init(label, bytemuck::cast_slice(&v), wgpu::BufferUsages::STORAGE)
    }

    /// A storage buffer holding `data`.
    pub fn storage_u32(&self, label: &str, data: &[u32]) -> wgpu::Buffer {
        self.init(label, bytemuck::cast_slice(data), wgpu::BufferUsages::STORAGE)
    }

    /// A zeroed storage buffer of `len` 4-byte elements.
    pub fn storage_zeroed(&self, label: &str, len: usize) -> wgpu::Buffer {
        self.count((4 * len.max(1)) as u64);
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (4 * len.max(1)) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// A uniform buffer holding a Pod value.
    pub fn uniform<T: bytemuck::Pod>(&self, label: &str, value: &T) -> wgpu::Buffer {
        self.init(label, bytemuck::bytes_of(value), wgpu::BufferUsages::UNIFORM)
    }

    fn init(&self, label: &str, bytes: &[u8], usage: wgpu::BufferUsages) -> wgpu::Buffer {
        self.count(bytes.len() as u64);
        self.uploaded.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytes,
            usage: usage | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        })
    }

    /// The largest storage binding, bytes.
    pub(crate) fn binding_limit(&self) -> u64 {
        self.limits.max_storage_buffer_binding_size.min(self.limits.max_buffer_size)
    }

    /// A CSR matrix in device buffers (f32 values), in as many row blocks as the adapter's
    /// storage binding limit needs (vectors must fit one binding).
    pub fn upload_csr(&self, a: &crate::fem::CsrMatrix) -> Result<DeviceCsr, String> {
        self.fits("vector", 4 * a.n as u64)?;
        let ranges = row_blocks(&a.row_ptr, self.binding_limit()).ok_or_else(|| {
            let widest = a.row_ptr.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
            format!("a matrix row of {widest} entries is over the storage binding limit of {} bytes", self.binding_limit())
        })?;
        let blocks = ranges
            .into_iter()
            .map(|rows| {
                let (lo, hi) = (a.row_ptr[rows.start] as usize, a.row_ptr[rows.end] as usize);
                let row_ptr: Vec<u32> = a.row_ptr[rows.start..=rows.end].iter().map(|p| p - lo as u32).collect();
                let dims = Dims { row_offset: rows.start as u32, ..Dims::for_len(rows.len()) };
                CsrBlock {
                    entries: lo..hi,
                    dims,
                    dims_buf: self.uniform("row block dims", &dims),
                    row_ptr: self.storage_u32("row_ptr", &row_ptr),
                    // A block of empty rows still binds one (unread) entry: zero-sized bindings are invalid.
                    col_idx: self.storage_u32("col_idx", if hi > lo { &a.col_idx[lo..hi] } else { &[0] }),
                    values: self.storage_f32("vals", if hi > lo { &a.values[lo..hi] } else { &[0.0] }),
                }
            })
            .collect();
        Ok(DeviceCsr { blocks })
    }

    /// A MAP_READ buffer of `bytes` bytes for reading a device state back.
    pub fn readback_buffer(&self, label: &str, bytes: u64) -> wgpu::Buffer {
        self.count(bytes);
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Reads `bytes` bytes from the start of `buffer` (waits for the queue).
    pub fn read_bytes(&self, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>, String> {
        let staging = self.readback_buffer("readback", bytes);
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(buffer, 0, &staging, 0, bytes);
        self.queue.submit([enc.finish()]);
        self.map_read(&staging)
    }

    /// Writes `data` into `buffer` at `offset` (counted in [`GpuContext::transfers`]).
    pub fn write(&self, buffer: &wgpu::Buffer, offset: u64, data: &[u8]) {
        self.uploaded.fetch_add(data.len() as u64, std::sync::atomic::Ordering::Relaxed);
        self.queue.write_buffer(buffer, offset, data);
    }

    /// Host <-> device bytes since the context opened: every buffer created with contents, every
    /// [`GpuContext::write`] and every read back through [`GpuContext::map_read`].
    pub fn transfers(&self) -> Transfers {
        use std::sync::atomic::Ordering::Relaxed;
        Transfers {
            host_to_device_bytes: self.uploaded.load(Relaxed),
            device_to_host_bytes: self.downloaded.load(Relaxed),
            device_wait_s: self.waited_ns.load(Relaxed) as f64 * 1e-9,
            jacobian_read_backs: self.jacobian_read_backs.load(Relaxed),
        }
    }

    /// Counts one device-assembled Jacobian read back to the host (its bytes are counted as
    /// they are read).
    pub fn count_jacobian_read_back(&self) {
        self.jacobian_read_backs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Maps a MAP_READ buffer, copies its contents out and unmaps it.
    pub fn map_read(&self, staging: &wgpu::Buffer) -> Result<Vec<u8>, String> {
        let (tx, rx) = std::sync::mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        let started = std::time::Instant::now();
        self.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| format!("device poll: {e}"))?;
        self.waited_ns.fetch_add(started.elapsed().as_nanos() as u64, std::sync::atomic::Ordering::Relaxed);
        rx.recv().map_err(|e| format!("map callback: {e}"))?.map_err(|e| format!("buffer map: {e}"))?;
        let out = staging.get_mapped_range(..).map_err(|e| format!("mapped range: {e}"))?.to_vec();
        self.downloaded.fetch_add(out.len() as u64, std::sync::atomic::Ordering::Relaxed);
        staging.unmap();
        self.check()?;
        Ok(out)
    }

    /// Reads `len` f32 values as f64.
    pub fn read_f32(&self, buffer: &wgpu::Buffer, len: usize) -> Result<Vec<f64>, String> {
        let bytes = self.read_bytes(buffer, (4 * len) as u64)?;
        Ok(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect())
    }
}
