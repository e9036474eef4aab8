//! Progress and warnings of long work, told to whoever listens.
//!
//! The library reports stages (meshing, assembling, solving, writing), Newton iterations and
//! time steps as [`Event`]s; the command line installs a [`Listener`] that draws progress bars on
//! stderr and prints warnings. Without a listener (tests, library use) events are dropped, except
//! warnings, which go to stderr so they are never lost.

use std::cell::RefCell;
use std::sync::OnceLock;

/// Something worth telling the user while a run goes on.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A new stage of the run begins: "meshing", "assembling", "solving", "writing outputs".
    Stage(&'a str),
    /// A Newton iteration was accepted, with its residual merit (scaled units).
    Newton { iteration: u32, residual: f64 },
    /// A transient step was accepted; `fraction` of the end time is done.
    TimeStep { step: u32, fraction: f64 },
    /// A legal but suspicious setting or a workaround the solver took.
    Warning(&'a str),
}

/// Receives the events of the process.
pub trait Listener: Send + Sync {
    fn event(&self, event: Event);
}

static LISTENER: OnceLock<Box<dyn Listener>> = OnceLock::new();

/// Installs the process's listener (once; later calls are ignored).
pub fn listen(listener: Box<dyn Listener>) {
    let _ = LISTENER.set(listener);
}

thread_local! {
    /// Warnings held back on this thread by [`hold_warnings`] (None: not holding).
    static HELD: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Runs `work` with this thread's warnings held back instead of reported, and returns them with
/// its result (a growth run reports each step's warnings once, not at every step).
pub fn hold_warnings<T>(work: impl FnOnce() -> T) -> (T, Vec<String>) {
    let before = HELD.with(|h| h.borrow_mut().replace(Vec::new()));
    let out = work();
    let held = HELD.with(|h| std::mem::replace(&mut *h.borrow_mut(), before)).unwrap_or_default();
    (out, held)
}

/// Tells the listener about `event`.
pub fn report(event: Event) {
    if let Event::Warning(message) = event {
        let held = HELD.with(|h| h.borrow_mut().as_mut().map(|list| list.push(message.to_string())).is_some());
        if held {
            return;
        }
    }
    match (LISTENER.get(), event) {
        (Some(listener), _) => listener.event(event),
        (None, Event::Warning(message)) => eprintln!("znfield: warning: {message}"),
        (None, _) => {}
    }
}

/// Shorthand for a stage.
pub fn stage(name: &str) {
    report(Event::Stage(name));
}

/// Shorthand for a warning.
pub fn warn(message: &str) {
    report(Event::Warning(message));
}
