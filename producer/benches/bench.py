"""Producer benchmark: our producer vs. peers on the same file, broker and run.

Prints, for each contender, rows/s (whole process, start to exit, median of the repeats)
and the ratio to ours; then the peak RSS of our producer on a generated file of >= 1 GB.
Absolute figures depend on the machine; the ratios are what BENCHMARKS.md tracks.

usage: bench.py PRODUCER_BIN BROKERS WORKDIR [--rows N] [--original-rows N] [--big-gb G] [--repeats R]
The broker must be running with its topics creatable by `.ci/broker create-topic`.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def create_topic(name: str) -> None:
    subprocess.run([os.path.join(REPO, ".ci", "broker"), "create-topic", name, "6"], check=True)




def mean_message_bytes(brokers: str, topic: str, limit: int = 20_000) -> float:
    """Mean key + value size of up to `limit` messages of `topic` (from its start)."""
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": brokers, "group.id": f"bench-size-{os.getpid()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    sizes: list[int] = []
    deadline = time.monotonic() + 30
    while len(sizes) < limit and time.monotonic() < deadline:
        for m in c.consume(1000, 1.0):
            if m.error() is None:
                sizes.append(len(m.key() or b"") + len(m.value() or b""))
    c.close()
    if not sizes:
        raise SystemExit(f"no messages read back from {topic}")
    return statistics.mean(sizes)


def run_measured(cmd: list[str]) -> tuple[float, int]:
    """Runs cmd with its stdout discarded; returns (seconds, peak RSS KiB) of that process."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    secs = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} … failed with status {status}")
    return secs, usage.ru_maxrss


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("producer")
    ap.add_argument("brokers")
    ap.add_argument("workdir")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--original-rows", type=int, default=100_000)
    ap.add_argument("--big-gb", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    py = sys.executable

    def generate(rows: int, name: str) -> str:
        path = os.path.join(a.workdir, name)
        symbols = 100
        days = max(1, rows // symbols)
        if not os.path.exists(path):
            subprocess.run([a.producer, "generate", "--symbols", str(symbols), "--days", str(days), "-o", path],
                           check=True)
        return path

    main_file = generate(a.rows, f"bench_{a.rows}.csv")
    orig_file = generate(a.original_rows, f"bench_{a.original_rows}.csv")
    rejects = os.path.join(a.workdir, "rejects.jsonl")
    n = 0

    def topic() -> str:
        nonlocal n
        n += 1
        t = f"bench-{os.getpid()}-{n}"
        create_topic(t)
        return t

    topics: dict[str, str] = {}

    def ours(path: str) -> list[str]:
        topics["ours"] = topic()
        return [a.producer, "produce", "-b", a.brokers, "-t", topics["ours"], "--progress", "off",
                "--rejects", rejects, path]

    def peer(kind: str, path: str) -> list[str]:
        topics[kind] = topic()
        return [py, os.path.join(HERE, "peers.py"), kind, a.brokers, topics[kind], path]

    results: dict[str, list[float]] = {"ours": [], "confluent": [], "ours_small": [], "original": []}
    for r in range(a.repeats):
        # Alternate the order so drift on a shared machine hits both sides alike.
        pair = [("ours", ours, main_file), ("confluent", lambda p: peer("confluent", p), main_file)]
        for name, mk, path in (pair if r % 2 == 0 else pair[::-1]):
            secs, _ = run_measured(mk(path))
            results[name].append(a.rows / secs)
            if name == "ours":
                topics["ours_main"] = topics["ours"]
        pair = [("ours_small", ours, orig_file), ("original", lambda p: peer("original", p), orig_file)]
        for name, mk, path in (pair if r % 2 == 0 else pair[::-1]):
            secs, _ = run_measured(mk(path))
            results[name].append(a.original_rows / secs)

    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"producer throughput, {a.rows:,} rows, median of {a.repeats} (rows/s, whole process):")
    print(f"  ours (parse+validate+encode)     {med['ours']:>10,.0f}")
    print(f"  confluent-kafka, raw lines       {med['confluent']:>10,.0f}")
    print(f"  ratio ours/confluent             {med['ours'] / med['confluent']:>10.2f}   (target >= 1.0)")
    # The messages' mean size, read back, for the broker-ceiling run that follows
    # (.ci/bench-producer reads it from the file).
    sizes = {k: mean_message_bytes(a.brokers, topics[k]) for k in ("ours_main", "confluent")}
    print(f"  mean message (key + value)       {sizes['ours_main']:>10.0f} bytes, "
          f"raw lines {sizes['confluent']:.0f} bytes")
    with open(os.path.join(a.workdir, "mean_message_bytes"), "w") as f:
        f.write(f"{round(sizes['ours_main'])}\n")
    print(f"original stack, {a.original_rows:,} rows:")
    print(f"  ours                             {med['ours_small']:>10,.0f}")
    print(f"  kafka-python, JSON dict per row  {med['original']:>10,.0f}")
    print(f"  ratio ours/original              {med['ours_small'] / med['original']:>10.2f}")

    if a.big_gb > 0:
        big = os.path.join(a.workdir, "bench_big.csv")
        if not os.path.exists(big) or os.path.getsize(big) < a.big_gb * 1e9:
            # ~95 bytes a row in the seed layout.
            days = int(a.big_gb * 1e9 / 95 / 500) + 1
            subprocess.run([a.producer, "generate", "--symbols", "500", "--days", str(days), "-o", big], check=True)
        size = os.path.getsize(big)
        secs, rss = run_measured(ours(big))
        rows = sum(1 for _ in open(big, "rb")) - 1
        print(f"memory, {size / 1e9:.2f} GB file ({rows:,} rows):")
        print(f"  peak RSS of ours                 {rss / 1024:>10.1f} MB   (target <= 64)")
        print(f"  throughput                       {rows / secs:>10,.0f} rows/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
