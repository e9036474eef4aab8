//! Timing of device work for `znfield bench`: a device-to-device copy (the bandwidth reference)
//! and batches of SpMV dispatches by wall clock (each measurement submits its work, waits for the
//! queue, and takes the median of several repetitions, so host overhead is amortised over the
//! batch), and, where the adapter has timestamp queries, the GPU time of each kernel of the CG
//! iteration from timestamps written at the start and end of a compute pass of its dispatches.

use std::time::Instant;

use super::context::GpuContext;
use super::kernels::{dot2_partial, dot_partial, lincomb3};
use super::layout::{slot, Dims, LincombSlots};
use super::multigrid::DeviceHierarchy;
use crate::fem::CsrMatrix;
use crate::solve::amg::Hierarchy;

/// Dispatches per timed pass.
const TIMED_DISPATCHES: u32 = 20;

/// GPU time of one dispatch of a kernel (or of one V-cycle), from timestamp queries.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KernelTime {
    pub kernel: String,
    /// Seconds per dispatch.
    pub seconds: f64,
}

/// Repetitions whose median is reported.
const REPEATS: usize = 5;

impl GpuContext {
    fn wait(&self) -> Result<(), String> {
        self.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| format!("device poll: {e}"))?;
        self.check()
    }

    /// Median wall time of `REPEATS` runs of `record` (one submit each), s.
    fn time_submits(&self, mut record: impl FnMut(&mut wgpu::CommandEncoder)) -> Result<f64, String> {
        let mut times = Vec::with_capacity(REPEATS);
        for _ in 0..REPEATS + 1 {
            let mut enc = self.device.create_command_encoder(&Default::default());
            record(&mut enc);
            let t = Instant::now();
            self.queue.submit([enc.finish()]);
            self.wait()?;
            times.push(t.elapsed().as_secs_f64());
        }
        times.remove(0); // warm-up
        times.sort_by(f64::total_cmp);
        Ok(times[times.len() / 2])
    }

    /// Device-to-device copy bandwidth (bytes read plus bytes written per second) for a buffer of
    /// `bytes` bytes (capped by the adapter's buffer limit).
    pub fn copy_bandwidth(&self, bytes: u64) -> Result<f64, String> {
        let bytes = bytes.min(self.limits.max_buffer_size) & !3;
        let buffer = |label| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let (src, dst) = (buffer("copy source"), buffer("copy target"));
        const COPIES: u64 = 8;
        let t = self.time_submits(|enc| {
            for _ in 0..COPIES {
                enc.copy_buffer_to_buffer(&src, 0, &dst, 0, bytes);
            }
        })?;
        Ok(2.0 * (bytes * COPIES) as f64 / t)
    }

    /// Wall time of one f32 SpMV of `a`, from batches of `per_submit` dispatches, s.
    pub fn time_spmv(&self, a: &CsrMatrix, per_submit: usize) -> Result<f64, String> {
        let csr = self.upload_csr(a)?;
        let x: Vec<f64> = (0..a.n).map(|i| (i % 7) as f64).collect();
        let (xb, yb) = (self.storage_f32("x", &x), self.storage_zeroed("y", a.n));
        let spmv = csr.spmv(self, &xb, &yb);
        let t = self.time_submits(|enc| {
            let mut pass = enc.begin_compute_pass(&Default::default());
            for _ in 0..per_submit {
                spmv.record(self, &mut pass);
            }
        })?;
        Ok(t / per_submit as f64)
    }

    /// GPU seconds of the work `record` puts into one compute pass, from timestamps at the pass's
    /// start and end; None without timestamp queries.
    pub fn gpu_time(&self, record: impl FnOnce(&mut wgpu::ComputePass<'_>)) -> Result<Option<f64>, String> {
        if !self.timestamps {
            return Ok(None);
        }
        let set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("pass timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let resolved = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("resolved timestamps"),
            size: 16,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let staging = self.readback_buffer("timestamp readback", 16);
        let mut enc = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("timed pass"),
                timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                    query_set: &set,
                    beginning_of_pass_write_index: Some(0),
                    end_of_pass_write_index: Some(1),
                }),
            });
            record(&mut pass);
        }
        enc.resolve_query_set(&set, 0..2, &resolved, 0);
        enc.copy_buffer_to_buffer(&resolved, 0, &staging, 0, 16);
        self.queue.submit([enc.finish()]);
        let bytes = self.map_read(&staging)?;
        let stamp = |i: usize| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().unwrap_or_default());
        let ticks = stamp(1).saturating_sub(stamp(0));
        Ok(Some(ticks as f64 * self.queue.get_timestamp_period() as f64 * 1e-9))
    }

    /// GPU time per dispatch of the kernels of a CG iteration on `a` (SpMV, a dot-product
    /// reduction, a fused pair of dots, a linear combination) and, with `hierarchy`, of one
    /// V-cycle; None without timestamp queries.
    pub fn kernel_times(&self, a: &CsrMatrix, hierarchy: Option<&Hierarchy>) -> Result<Option<Vec<KernelTime>>, String> {
        if !self.timestamps {
            return Ok(None);
        }
        let n = a.n;
        let k = &self.kernels;
        let d = &self.device;
        let dims = Dims::for_len(n);
        let dims_buf = self.uniform("dims", &dims);
        let x: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
        let (xb, yb, zb) = (self.storage_f32("x", &x), self.storage_zeroed("y", n), self.storage_zeroed("z", n));
        let partials = self.storage_zeroed("partials", 2 * dims.reduce_groups as usize);
        let csr = self.upload_csr(a)?;
        let spmv = csr.spmv(self, &xb, &yb);
        let dot = dot_partial::bind(&k.dot_partial, d, &dims_buf, &xb, &yb, &partials);
        let dot2 = dot2_partial::bind(&k.dot2_partial, d, &dims_buf, &xb, &yb, &xb, &xb, &partials);
        let constants = self.storage_f32("constants", &[0.0; 12]);
        let slots = self.uniform("slots", &LincombSlots { n: n as u32, a: slot::ONE, b: slot::ONE, c: slot::ONE });
        let lincomb = lincomb3::bind(&k.lincomb3, d, &slots, &constants, &xb, &yb, &zb);
        let per =
            |t: Option<f64>, name: &str| t.map(|s| KernelTime { kernel: name.into(), seconds: s / TIMED_DISPATCHES as f64 });
        let mut out = Vec::new();
        out.extend(per(self.gpu_time(|p| (0..TIMED_DISPATCHES).for_each(|_| spmv.record(self, p)))?, "spmv"));
        out.extend(per(
            self.gpu_time(|p| (0..TIMED_DISPATCHES).for_each(|_| k.dot_partial.dispatch(p, &dot, &dims)))?,
            "dot_partial",
        ));
        out.extend(per(
            self.gpu_time(|p| (0..TIMED_DISPATCHES).for_each(|_| k.dot2_partial.dispatch(p, &dot2, &dims)))?,
            "dot2_partial",
        ));
        out.extend(per(
            self.gpu_time(|p| (0..TIMED_DISPATCHES).for_each(|_| k.lincomb3.dispatch(p, &lincomb, &dims)))?,
            "lincomb3",
        ));
        if let Some(h) = hierarchy {
            let cycle = DeviceHierarchy::upload(self, h, &xb, &zb)?;
            out.extend(per(self.gpu_time(|p| (0..TIMED_DISPATCHES).for_each(|_| cycle.record(self, p)))?, "v_cycle"));
        }
        Ok(Some(out))
    }
}
