//! Wall-clock timing of device work for `znfield bench`: a device-to-device copy (the
//! bandwidth reference) and batches of SpMV dispatches. Each measurement submits its work, waits
//! for the queue, and takes the median of several repetitions, so host overhead is amortised
//! over the batch.

use std::time::Instant;

use super::context::GpuContext;
use crate::fem::CsrMatrix;

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
}
