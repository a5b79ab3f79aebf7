"""`corpus run`: plan work units, run the pending ones on Ray Data, finalize.

Ray appears here and nowhere in the stage logic: each unit runs through
`process_unit` inside a Ray Data actor (`UnitProcessor`) that loads the models
once. With `executor="serial"` the same units run in this process, which is
what tests compare against.

A run claims its output before it writes anything (corpus/claim.py), so two
runs with different settings never mix their files; a finished unit is reused
only when its ledger key matches this run (ray_jobs/unit.py), and redone,
with the reason logged, when it does not.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from corpus.accounting import meter
from corpus.claim import claimed
from corpus.config import RayConfig, RunConfig
from corpus.layout import SELECTION_LEDGER
from corpus.publish import published_run
from corpus.storage import Storage, expand_inputs, open_storage
from corpus.stats import Stats
from dedup.index import IndexMismatch, SignatureIndex
from dedup.signatures import index_settings
from ray_jobs.cc_select import selection_units
from ray_jobs.finalize import MixedUnits, RunResult, already_published, finalize, run_id_for
from ray_jobs.progress import RunProgress, quiet_ray, stage, unit_reads
from ray_jobs.unit import UnitModels, WorkUnit, forget_unit, ledger_mismatch, process_unit, unit_settings

log = logging.getLogger(__name__)


class RunFailed(RuntimeError):
    """The run could not produce a complete output; the message says why."""


class RayUnavailable(RunFailed):
    """Ray could not be started or joined, or went away mid-run; finished units are kept."""


def plan_units(cfg: RunConfig, stats: Stats | None = None) -> list[WorkUnit]:
    """One unit per input file, plus one per WARC file of an index selection (its cost to `stats`)."""
    if not cfg.input and not cfg.select.index:
        raise RunFailed("no input given: pass --input GLOB or set `input:` (or `select.index:`) in the config")
    units = [WorkUnit.for_input(uri) for uri in expand_inputs(cfg.input)] if cfg.input else []
    if cfg.select.index:  # Common Crawl index selection: one unit per WARC file, its records only
        units += selection_units(cfg.select, stats)
    return units


def run(cfg: RunConfig, executor: Literal["ray", "serial"] = "ray") -> RunResult:
    """Process every pending unit, then build shards, stats and manifest.

    Raises PublishRefused (OutputClaimed included) before writing anything
    when the output belongs to another run, RunFailed when the run fails.
    """
    if not cfg.output:
        raise RunFailed("no output given: pass --output DIR|s3://BUCKET/PREFIX or set `output:`")
    meter.start_run()
    out = open_storage(cfg.output)
    plan_stats = Stats()
    units = plan_units(cfg, plan_stats)
    run_id = run_id_for(cfg, units)
    published = published_run(out, run_id)  # a complete run of another config is refused here
    if published is not None:
        return already_published(out, published)
    if cfg.dedup.enabled and cfg.dedup.index:  # an index of other settings would fail only at finalize
        try:
            SignatureIndex(cfg.dedup.index, index_settings(cfg.dedup))
        except IndexMismatch as exc:
            raise RunFailed(str(exc)) from None
    settings = unit_settings(cfg, os.environ)
    with claimed(out, run_id, cfg.sha256()):
        published_run(out, run_id)  # another run may have published while this one claimed
        if cfg.select.index:  # what reading the index cost; finalize adds it to the run's stats
            out.write_bytes(SELECTION_LEDGER, json.dumps({"stats": plan_stats.to_dict()}).encode())
        pending = _pending_units(units, out, settings)
        log.info("%d input files, %d already done, %d to process", len(units), len(units) - len(pending), len(pending))
        if pending:
            failures = _run_serial(pending, cfg, out) if executor == "serial" else _run_on_ray(pending, cfg, out)
            if failures:
                lines = "\n".join(f"  {f['uri']}: {f['error']}" for f in failures)
                raise RunFailed(f"{len(failures)} work unit(s) failed; rerun to retry them:\n{lines}")
        unread = _nothing_read(units, out)
        if unread is not None:  # refuse before publishing: an empty manifest would look complete
            raise RunFailed(f"no input could be read: {_error_summary(unread)}")
        try:
            with stage("deduplicating, writing shards and the report", cfg.ray.progress):
                return finalize(cfg, units, out)
        except MixedUnits as exc:
            raise RunFailed(str(exc)) from None


def _pending_units(units: list[WorkUnit], out: Storage, settings: dict[str, str]) -> list[WorkUnit]:
    """Units without a ledger entry, plus finished ones whose entry was made from
    other inputs, settings or code: those are forgotten and redone, and the run says why."""
    pending: list[WorkUnit] = []
    redone: dict[str, list[WorkUnit]] = {}
    for unit in units:
        try:
            entry = json.loads(out.read_bytes(unit.ledger_path))
        except FileNotFoundError:
            pending.append(unit)
            continue
        why = ledger_mismatch(entry, unit, settings)
        if why is not None:
            forget_unit(unit, out)
            redone.setdefault(why, []).append(unit)
            pending.append(unit)
    for why, group in redone.items():
        names = ", ".join(u.unit_id for u in group[:5]) + (f" and {len(group) - 5} more" if len(group) > 5 else "")
        log.warning("redoing %d finished unit(s) of %s because %s: %s", len(group), out.uri, why, names)
    return pending


def _run_serial(pending: list[WorkUnit], cfg: RunConfig, out) -> list[dict[str, Any]]:
    models = UnitModels(cfg)
    failures = []
    with RunProgress(cfg.ray.progress, len(pending)) as progress:
        for unit in pending:
            if models.retired:  # one process here: fresh models drop what the old ones accumulated
                models = UnitModels(cfg)
            try:
                progress.unit_done(*unit_reads(process_unit(unit, models, out)))
            except Exception as exc:  # noqa: BLE001 - reported, and the unit stays pending
                failures.append({"uri": unit.uri, "error": f"{type(exc).__name__}: {exc}"})
    return failures


class UnitProcessor:
    """Ray Data actor: models load once in __init__, then one unit per call."""

    def __init__(self, cfg_json: str, output: str) -> None:
        self.cfg = RunConfig.model_validate_json(cfg_json)
        self.models = UnitModels(self.cfg)
        self.out = open_storage(output)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        if self.models.retired:  # over its memory limit after the last unit: Ray restarts
            os._exit(0)  # the actor and retries this call there, before any of its work was done
        rows: dict[str, list] = {"unit_id": [], "uri": [], "docs": [], "records": [], "bytes": [], "error": []}
        for uri, unit_id, ranges in zip(batch["uri"], batch["unit_id"], batch["ranges"]):
            unit = WorkUnit(uri=str(uri), unit_id=str(unit_id), ranges=_unit_ranges(ranges))
            docs, records, nbytes, error = 0, 0, 0, ""
            try:
                entry = process_unit(unit, self.models, self.out)
                docs, (records, nbytes) = entry["docs"], unit_reads(entry)
            except Exception as exc:  # noqa: BLE001 - reported to the driver, unit stays pending
                error = f"{type(exc).__name__}: {exc}"
            rows["unit_id"].append(unit.unit_id)
            rows["uri"].append(unit.uri)
            rows["docs"].append(docs)
            rows["records"].append(records)
            rows["bytes"].append(nbytes)
            rows["error"].append(error)
        return rows


def _run_on_ray(pending: list[WorkUnit], cfg: RunConfig, out) -> list[dict[str, Any]]:
    """Run the units on Ray; when Ray gives up on lost work (a node gone with its
    actors), plan the units not yet in the ledger again on the nodes that remain."""
    import ray

    for attempt in range(1, cfg.ray.lost_unit_attempts + 1):
        try:
            return _run_units_on_ray(pending, cfg, out.uri)
        except ray.exceptions.RayError as exc:
            pending = [u for u in pending if not out.exists(u.ledger_path)]
            if not pending:
                return []
            if attempt == cfg.ray.lost_unit_attempts:
                raise RunFailed(
                    f"Ray lost work units {attempt} times ({type(exc).__name__}); finished units are kept, rerun to resume"
                ) from exc
            log.warning("Ray lost work units (%s); retrying the %d unfinished units", type(exc).__name__, len(pending))
    return []


def _run_units_on_ray(pending: list[WorkUnit], cfg: RunConfig, output: str) -> list[dict[str, Any]]:
    import ray

    init_ray(cfg.ray)
    quiet_ray(cfg.ray.verbose)
    workers = min(len(pending), cfg.ray.workers or max(1, int(ray.available_resources().get("CPU", 1))))
    items = [{"uri": u.uri, "unit_id": u.unit_id, "ranges": json.dumps(u.ranges)} for u in pending]
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    # A worker (or node) that dies takes its unit with it: the actor restarts and
    # the unit runs again from scratch, which is safe because a unit's outputs are
    # atomic and its ledger entry is written last. One unit in flight per actor
    # keeps big and small files balanced and limits what a death costs.
    with warnings.catch_warnings():  # max_restarts has no named parameter yet; Ray's notice says so each run
        warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
        results = ds.map_batches(
            UnitProcessor,
            fn_constructor_args=(cfg.model_dump_json(), output),
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(
                min_size=1, max_size=workers, initial_size=workers, max_tasks_in_flight_per_actor=1
            ),
            num_cpus=1,
            batch_format="numpy",
            max_restarts=cfg.ray.max_restarts,
            max_task_retries=cfg.ray.max_task_retries,
        )
    failures = []
    with RunProgress(cfg.ray.progress, len(pending)) as progress:
        for row in results.iter_rows():  # streamed as units finish, so the display moves
            progress.unit_done(int(row["records"]), int(row["bytes"]))
            if row["error"]:
                failures.append({"uri": row["uri"], "error": row["error"]})
    return failures


def _unit_ranges(ranges_json) -> tuple[tuple[int, int], ...]:
    """A unit's byte ranges travel through Ray Data as JSON text (see `_run_on_ray`)."""
    return tuple((int(offset), int(length)) for offset, length in json.loads(str(ranges_json)))


def init_ray(cfg: RayConfig) -> None:
    """Join the configured cluster, or start local Ray sized for this machine."""
    import ray

    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    # Workers' output (and the C++ stacks of a dying runtime) reach the terminal only with --verbose.
    quiet = {"log_to_driver": cfg.verbose, "logging_level": logging.INFO if cfg.verbose else logging.ERROR}
    try:
        with _project_imports() as runtime_env:
            if cfg.address:
                ray.init(address=cfg.address, runtime_env=runtime_env, **quiet)
                return
            _start_local_ray(cfg, runtime_env, quiet)
    except Exception as exc:  # noqa: BLE001 - a timeout, a refused address, too little memory: all end the run
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if cfg.address:
            hint = f"check ray.address ({cfg.address}) and that the cluster is up (`ray status` on its head)"
        else:
            hint = "check free memory and disk under /tmp/ray, lower ray.object_store_memory_mb, or run with --serial"
        raise RayUnavailable(f"could not start Ray: {detail}; {hint}") from None


# Ray waits a fixed 30 s for its raylet to register (ray/_private/node.py), which a
# machine under heavy load can miss though nothing is wrong; nothing has run yet, so
# starting again is safe.
LOCAL_START_TRIES = 3
_SLOW_START = "timed out during startup"


def _start_local_ray(cfg: RayConfig, runtime_env: dict[str, Any] | None, quiet: dict[str, Any]) -> None:
    import ray

    for attempt in range(1, LOCAL_START_TRIES + 1):
        try:
            ray.init(
                num_cpus=cfg.num_cpus or os.cpu_count(),
                object_store_memory=cfg.object_store_memory_mb * 1024 * 1024,
                include_dashboard=False,
                configure_logging=True,
                runtime_env=runtime_env,
                **quiet,
            )
            return
        except Exception as exc:
            if _SLOW_START not in str(exc) or attempt == LOCAL_START_TRIES:
                raise
            ray.shutdown()  # the processes this try started
            log.warning("local Ray did not register in time (try %d of %d); starting it again", attempt, LOCAL_START_TRIES)


@contextmanager
def _project_imports() -> Iterator[dict[str, Any] | None]:
    """Workers import what the driver imports, never the user's working directory.

    Ray puts the driver's working directory first on every worker's import
    path unless the job has a working_dir, so a run started from a folder that
    holds its own `filters/` or `corpus/` had its workers import those instead
    of this project. When the driver itself does not import from that folder
    (the `corpus` command), an empty working_dir turns that off; each worker
    then moves back to the driver's folder, so relative paths in the config
    keep their meaning. A driver that does import from its folder (`python -m`
    in a checkout, a submitted job inside its working_dir) is left as Ray
    makes it: its workers need that folder.
    """
    cwd = os.getcwd()
    if cwd in {os.path.abspath(entry or os.curdir) for entry in sys.path}:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="corpus-ray-") as empty:  # uploaded by ray.init, not needed after
        yield {"working_dir": empty, "worker_process_setup_hook": _enter_when_present(cwd)}


def _enter_when_present(folder: str) -> Callable[[], None]:
    """A worker setup hook, shipped by value (importing this module is what it must not need):
    enter `folder` where it exists (on other nodes of a cluster it may not)."""

    def enter_driver_folder() -> None:
        if os.path.isdir(folder):
            os.chdir(folder)

    return enter_driver_folder


def _nothing_read(units: list[WorkUnit], out) -> Stats | None:
    """The merged stats of the units when not one record could be read from any input."""
    stats = Stats()
    for unit in units:
        stats.merge_dict(json.loads(out.read_bytes(unit.ledger_path))["stats"])
    return stats if stats.counters.get("records_read", 0) == 0 else None


def _error_summary(stats: Stats) -> str:
    parts = [f"{kind} x{slot['count']} ({slot['examples'][0]})" for kind, slot in stats.errors.items()]
    return "; ".join(parts) or "no records found"

