// Whether a process id names a live process: files a process leaves behind (locks, half-written temporaries)
// belong to it only while it runs.

/** True while `pid` runs (signal 0 checks without signalling; EPERM means it runs under another user). */
export function isProcessRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
