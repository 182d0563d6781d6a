#pragma once
// The last words of a process that dies of a fault: one line saying which
// signal, where, and whether it looks like a stack overflow.
//
// A daemon that dies of SIGSEGV leaves nothing in its log by itself, and the
// next command silently starts another; with this, its log says why it died.
// The handler runs on an alternate signal stack, so that a stack overflow
// (where the thread's own stack is used up) is reported too, and does
// nothing but write(2) a line prepared from async-signal-safe parts. Then
// the signal takes its default course (the process dies of it, with a core
// dump where those are enabled), so the exit status is what it would have
// been without the handler.
//
// The alternate stack belongs to the thread that installs the handler: a
// stack overflow on another thread dies without its line.

namespace tend::process {

/// Installs the handler for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT and
/// SIGSYS, writing its line to `fd` (which must stay open), each line
/// starting with `who` (e.g. "tend daemon"; copied, at most 63 bytes kept).
/// Call it once, from the thread that does the work (a daemon's loop).
void report_fatal_signals(int fd, const char* who);

}  // namespace tend::process
