"""``--ray ADDRESS``: each input is one Ray task declaring ``num_cpus`` (the batch's threads) and
``memory``; the tasks write their results into the batch's output folder themselves, so that
folder must be on a filesystem every node mounts at the same path. The driver (the batch process)
only collects the outcomes and keeps the summary.

Ray is an optional dependency: ``pip install 'selfmocap[ray]'``.
"""

from __future__ import annotations

from selfmocap.batch.worker import Attempt, CaptureTask, capture_with_threads
from selfmocap.errors import UserError


def import_ray():
    try:
        import ray
    except ImportError:
        raise UserError("--ray needs Ray, which is not installed: pip install 'selfmocap[ray]'") from None
    return ray


class RayRunner:
    """Tasks on a Ray cluster. Connects to ``address`` unless this process is already connected
    (then that connection is used, and left open at the end); Ray itself retries nothing
    (``max_retries=0``): a lost worker is an attempt the batch retries like any other failure."""

    def __init__(self, address: str, threads: int, memory_gib: float):
        self.ray = ray = import_ray()
        self.owned = not ray.is_initialized()
        if self.owned:
            try:
                ray.init(address=address, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise UserError(f"--ray {address}: cannot connect to a Ray cluster ({' '.join(str(err).split())[:200]}): "
                                "start one with 'ray start --head', or give its address") from None
        resources = ray.cluster_resources()
        if resources.get("memory", float("inf")) < memory_gib * 2**30:
            self.close()
            raise UserError(f"--ray-memory {memory_gib:g} GiB is more than the cluster's "
                            f"{resources['memory'] / 2**30:.1f} GiB: give a smaller --ray-memory")
        self.remote = ray.remote(capture_with_threads).options(
            num_cpus=threads, memory=int(memory_gib * 2**30), max_retries=0)
        cpus = float(resources.get("CPU", threads))
        # keep about two tasks per slot queued: enough for Ray to keep every slot busy
        self.capacity = max(1, 2 * int(cpus // max(threads, 1)))
        self.refs: dict = {}

    def submit(self, task: CaptureTask) -> None:
        self.refs[self.remote.remote(task)] = task

    def wait(self) -> list[Attempt]:
        ready, _ = self.ray.wait(list(self.refs), num_returns=1)
        attempts = []
        for ref in ready:
            task = self.refs.pop(ref)
            try:
                attempts.append(self.ray.get(ref))
            except self.ray.exceptions.RayError as err:
                attempts.append(Attempt(task.name, False, f"Ray task failed: {type(err).__name__}: "
                                        f"{' '.join(str(err).split())[:300]}"))
        return attempts

    def stop(self) -> None:
        for ref in list(self.refs):
            self.ray.cancel(ref, force=True)
        self.refs.clear()
        self.close()

    def close(self) -> None:
        if self.owned and self.ray.is_initialized():
            self.ray.shutdown()
