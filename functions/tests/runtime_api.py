#!/usr/bin/env python3
"""The five Lambda binaries under a Lambda Runtime API emulator, against moto and Kafka.

As close to a deployed function as one machine gets: `cargo lambda watch --only-lambda-apis`
serves the Runtime API; each debug binary polls it with the environment template.yaml gives
its function (parameters at their defaults, resources named by this script), pointed at the
moto server (S3, Glue, Athena) and the Kafka broker that `.ci/test` starts. Each function is
invoked through the emulator's invoke API (what `cargo lambda invoke` sends) with its sample
event from events/, with a bad event, and once more; the results are checked with clients
that share no code with the functions (boto3, pyarrow, confluent-kafka):

  sink      the sample batch twice: its 50 rows land once; a bad event fails with the
            decoder's message; the same process then stores the next batch (the sample
            again at offsets 150-199, as a second trigger batch would bring).
  compact   merges what the sink wrote: one object per year folder, the same rows; a second
            run finds nothing to merge.
  replay    streams the sample drop (events/replay-s3-put.json with the test bucket; the
            CSVs it names uploaded first) into a new topic: every row once, keyed by
            symbol, with the source and line the CSV has (in the value: message format
            version 2); again: nothing sent.
  crawler   starts the Glue crawler and waits for it (this script ends moto's crawl, which
            never ends by itself), then reports the catalog's tables.
  insights  runs the ten insights on moto's Athena (which runs no SQL: each query gets a
            result queued through moto's API) and writes the report to S3.

Why the emulator's deadline does not matter: it sends `Lambda-Runtime-Deadline-Ms: 600000`
(ten minutes after the epoch, not from now); the functions read a deadline already past at
the start as unknown.

usage: runtime_api.py [--build] [--bin-dir DIR] [--keep]
  --build    build the five debug binaries first (`cargo build --locked --bin ...`)
  --bin-dir  where the binaries are (default: $CARGO_TARGET_DIR/debug, else target/debug)
  --keep     keep the work folder (logs of every process, derived events) even on success
Environment: STOCKSTREAM_TEST_S3_ENDPOINT (moto) and STOCKSTREAM_TEST_BROKERS (Kafka), as
`.ci/test` sets them. cargo-lambda is taken from this Python's folder (the venv of
`.ci/setup`), else from PATH.
Exit status: 0 every check passed, 1 a check failed, 2 it cannot run here.
"""

import argparse
import base64
import concurrent.futures
import copy
import datetime
import io
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
REGION = "us-east-1"
ACCOUNT = "123456789012"
# The run's order: the sink fills the lake the compaction merges and the crawler catalogs.
BINARIES = ("sink", "compact", "replay", "crawler", "insights")
# What each binary is built from (a binary older than any of these is stale).
SOURCES = {
    "sink": ["functions/sink/src", "functions/lambda/src", "functions/store/src", "core/src"],
    "compact": ["functions/sink/src", "functions/lambda/src", "functions/store/src", "core/src"],
    "replay": ["functions/replay/src", "functions/lambda/src", "functions/store/src", "core/src", "producer/src"],
    "crawler": ["functions/crawler/src", "functions/lambda/src"],
    "insights": ["functions/insights/src", "functions/lambda/src", "functions/store/src", "core/src"],
}
# Longest wait for one invocation's answer; every other wait is bounded too.
INVOKE_TIMEOUT = 120


class Failed(Exception):
    """A check failed."""


class CannotRun(Exception):
    """Something this script needs is missing."""


def check(ok, what):
    if not ok:
        raise Failed(what)


def message_value(raw: bytes) -> dict:
    """A message value as a dict, read here without the functions' decoder: version 1 is JSON;
    version 2 (core/src/message.rs) is `2,line,symbol,date[Ttime],open,high,low,close,
    adj_close,volume,close_usd,source`, the source running to the end."""
    if raw.startswith(b"{"):
        return json.loads(raw)
    f = raw.decode().split(",", 11)
    check(len(f) == 12 and f[0] == "2", f"not a version 1 or 2 value: {raw!r}")
    return {"v": 2, "line": int(f[1]), "symbol": f[2], "date": f[3].partition("T")[0],
            "source": f[11]}


try:
    import boto3
    import pyarrow.parquet as pq
    import yaml
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
except ModuleNotFoundError as e:  # pragma: no cover - depends on the interpreter
    print(f"runtime-api: needs the venv of .ci/setup ({e}); run it with $STOCKSTREAM_PYTHON",
          file=sys.stderr)
    sys.exit(2)


# --- template.yaml --------------------------------------------------------------------------


class CfnLoader(yaml.SafeLoader):
    """PyYAML's safe loader plus CloudFormation's short tags, read into their long forms."""


def _cfn_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + suffix: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


class Template:
    """The functions of template.yaml and the environment each gets, with the parameters at
    their defaults (or `overrides`) and the resources named by `resources`. A reference this
    cannot resolve fails the run: a new variable must be given a value here, not skipped."""

    PSEUDO = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws",
              "AWS::StackName": "stockstream-runtime-api", "AWS::URLSuffix": "amazonaws.com"}

    def __init__(self, path, overrides, resources):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.load(f, Loader=CfnLoader)
        params = self.doc.get("Parameters", {})
        unknown = set(overrides) - set(params)
        if unknown:
            raise Failed(f"template: no parameters {sorted(unknown)}")
        self.params = {k: self.scalar(p.get("Default", "")) for k, p in params.items()}
        self.params.update(overrides)
        self.resources = resources

    @staticmethod
    def scalar(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    def functions(self):
        """binary -> merged properties of its AWS::Serverless::Function."""
        globals_ = self.doc.get("Globals", {}).get("Function", {})
        out = {}
        for logical, res in self.doc["Resources"].items():
            if res.get("Type") != "AWS::Serverless::Function":
                continue
            props = dict(globals_)
            props.update(res.get("Properties", {}))
            variables = dict(globals_.get("Environment", {}).get("Variables", {}))
            variables.update(res.get("Properties", {}).get("Environment", {}).get("Variables", {}))
            props["Variables"] = variables
            props["LogicalId"] = logical
            out[res["Metadata"]["BuildProperties"]["Binary"]] = props
        return out

    def ref(self, name):
        for table in (self.params, self.PSEUDO, self.resources):
            if name in table:
                return table[name]
        raise Failed(f"template: nothing here for !Ref {name} (name the resource in the runtime API test)")

    def value(self, node):
        if isinstance(node, (str, int, float, bool)):
            return self.scalar(node)
        if isinstance(node, dict) and len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::If":
                cond, yes, no = arg
                return self.value(yes if self.condition(cond) else no)
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

                def sub(m):
                    name = m.group(1)
                    if name.startswith("!"):
                        return "${" + name[1:] + "}"
                    if name in extra:
                        return self.value(extra[name])
                    if "." in name:
                        raise Failed(f"template: !Sub ${{{name}}} (GetAtt) has no value here")
                    return self.ref(name)

                return re.sub(r"\$\{([^}]+)\}", sub, text)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(self.value(i) for i in items)
        raise Failed(f"template: cannot evaluate {node!r} here")

    def condition(self, name):
        return self.truth(self.doc["Conditions"][name])

    def truth(self, node):
        (key, arg), = node.items()
        if key == "Fn::Equals":
            return self.value(arg[0]) == self.value(arg[1])
        if key == "Fn::Not":
            return not self.truth(arg[0])
        if key == "Fn::And":
            return all(self.truth(a) for a in arg)
        if key == "Fn::Or":
            return any(self.truth(a) for a in arg)
        if key == "Condition":
            return self.condition(arg)
        raise Failed(f"template: cannot evaluate condition {node!r}")


# --- processes --------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc, grace=5):
    """Ends a process this script started (its own process group), politely first."""
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(path, lines=25):
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


class Emulator:
    """`cargo lambda watch --only-lambda-apis` on a free loopback port."""

    def __init__(self, cargo_lambda, work):
        self.port = free_port()
        self.log = work / "cargo-lambda-watch.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [cargo_lambda, "lambda", "watch", "--only-lambda-apis",
                 "--invoke-address", "127.0.0.1", "--invoke-port", str(self.port)],
                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        # Ready when it has printed the AWS_LAMBDA_RUNTIME_API to give the functions.
        deadline = time.monotonic() + 60
        self.runtime_api = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CannotRun(f"cargo lambda watch exited with {self.proc.returncode}:\n{tail(self.log)}")
            m = re.search(r"AWS_LAMBDA_RUNTIME_API=(\S+)", self.log.read_text(errors="replace"))
            if m and "starting Runtime server" in self.log.read_text(errors="replace"):
                self.runtime_api = m.group(1)
                break
            time.sleep(0.1)
        if self.runtime_api is None:
            raise CannotRun(f"cargo lambda watch did not start within 60 s:\n{tail(self.log)}")

    def invoke(self, fn, payload):
        """POSTs `payload` to the emulator's invoke API for `fn`: (status, parsed body,
        seconds). Fails early if the function's process dies meanwhile."""
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/2015-03-31/functions/{fn.binary}/invocations",
            data=payload, method="POST", headers={"Content-Type": "application/json"})

        def send():
            try:
                with urllib.request.urlopen(req, timeout=INVOKE_TIMEOUT) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()

        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            future = pool.submit(send)
            while not concurrent.futures.wait([future], timeout=0.2).done:
                if not fn.alive():
                    raise Failed(f"{fn.binary}: the process exited ({fn.proc.returncode}) "
                                 f"during the invocation; its log:\n{tail(fn.log)}")
            try:
                status, body = future.result()
            except (urllib.error.URLError, OSError) as e:
                raise Failed(f"{fn.binary}: no answer from the emulator within "
                             f"{INVOKE_TIMEOUT} s ({e}); its log:\n{tail(fn.log)}")
        seconds = time.monotonic() - start
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        return status, parsed, seconds

    def stop(self):
        stop(self.proc)


class Function:
    """One binary polling the emulator, as Lambda's execution environment runs `bootstrap`."""

    def __init__(self, binary, path, env, work):
        self.binary = binary
        self.log = work / f"{binary}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([str(path)], env=env, cwd=work, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        stop(self.proc)


# --- the run ---------------------------------------------------------------------------------


def short(text, n=160):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


class Run:
    def __init__(self, args, work):
        self.work = work
        self.moto = os.environ.get("STOCKSTREAM_TEST_S3_ENDPOINT", "").rstrip("/")
        self.brokers = os.environ.get("STOCKSTREAM_TEST_BROKERS", "")
        if not self.moto or not self.brokers:
            raise CannotRun("STOCKSTREAM_TEST_S3_ENDPOINT and STOCKSTREAM_TEST_BROKERS are not "
                            "set: run it from .ci/test (it starts moto and Kafka), or see the README")
        # The functions' S3 clients address a bucket by host name (bucket.host) unless the
        # endpoint is an IP address, and bucket.localhost does not resolve everywhere.
        host = urllib.parse.urlsplit(self.moto).hostname or ""
        if host == "localhost":
            self.moto = self.moto.replace("localhost", "127.0.0.1", 1)
        else:
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise CannotRun(f"STOCKSTREAM_TEST_S3_ENDPOINT {self.moto}: give moto's IP address "
                                f"(the functions would ask for BUCKET.{host})")
        self.bin_dir = Path(args.bin_dir) if args.bin_dir else Path(
            os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug"
        self.cargo_lambda = shutil.which("cargo-lambda", path=os.path.dirname(sys.executable)) \
            or shutil.which("cargo-lambda")
        if not self.cargo_lambda:
            raise CannotRun("cargo-lambda is not installed (pip install cargo-lambda, as .ci/setup does)")
        n = time.time_ns()
        self.bucket = f"stockstream-rtapi-{n}"
        self.names = {
            "DataBucket": self.bucket,
            "LakeCrawler": f"stockstream-rtapi-lake-{n}",
            "GlueDatabase": f"stockstream_rtapi_{n}",
            "AthenaWorkGroup": f"stockstream-rtapi-{n}",
            "ReportsTopic": f"arn:aws:sns:{REGION}:{ACCOUNT}:stockstream-rtapi-reports-{n}",
        }
        self.topic = f"stock-bars-rtapi-{n}"
        self.template = Template(ROOT / "template.yaml",
                                 {"KafkaBootstrapServers": self.brokers, "KafkaTopic": self.topic},
                                 self.names)
        self.functions = self.template.functions()
        check(set(self.functions) == set(BINARIES),
              f"template.yaml builds {sorted(self.functions)}, this test runs {sorted(BINARIES)}")
        aws = dict(endpoint_url=self.moto, region_name=REGION,
                   aws_access_key_id="test", aws_secret_access_key="test")
        self.s3 = boto3.client("s3", **aws)
        self.glue = boto3.client("glue", **aws)
        self.athena = boto3.client("athena", **aws)
        self.sns = boto3.client("sns", **aws)
        self.invocations = 0
        self.running = {}

    # -- plumbing

    def binaries(self):
        paths = {}
        for b in BINARIES:
            p = self.bin_dir / b
            if not os.access(p, os.X_OK):
                raise CannotRun(f"no binary {p}: build them (cargo build --bins, or --build)")
            built = p.stat().st_mtime
            newer = [f for d in SOURCES[b] for f in (ROOT / d).rglob("*.rs") if f.stat().st_mtime > built]
            if newer:
                raise CannotRun(f"{p} is older than {newer[0].relative_to(ROOT)}: build again "
                                "(cargo build --bins, or --build)")
            paths[b] = p
        return paths

    def env(self, binary, runtime_api):
        props = self.functions[binary]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            # What Lambda sets, as far as the binaries read it. The emulator routes by
            # function name, which is the binary's name for cargo-lambda.
            "AWS_LAMBDA_RUNTIME_API": f"{runtime_api}/{binary}",
            "AWS_LAMBDA_FUNCTION_NAME": binary,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": self.template.value(props.get("MemorySize", 128)),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{binary}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "runtime-api-test",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "TZ": ":UTC",
            # Instead of the role's credentials: moto's, and moto for every AWS API (an IP
            # address, so the S3 client puts the bucket in the path).
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_ENDPOINT_URL": self.moto,
            "AWS_EC2_METADATA_DISABLED": "true",
            # No profile of the developer's (~/.aws) reaches the functions.
            "HOME": str(self.work),
            "RUST_BACKTRACE": "1",
        }
        for k, v in props["Variables"].items():
            env[k] = self.template.value(v)
        return env

    def invoke(self, binary, what, payload, expect_error=None):
        """One invocation; returns the answer. `expect_error`: a fragment the error message
        must hold (the invocation must fail)."""
        fn = self.running[binary]
        status, body, seconds = self.emulator.invoke(fn, payload)
        self.invocations += 1
        if expect_error is None:
            check(status == 200, f"{binary}: {what}: HTTP {status}: {short(body, 600)}\n{tail(fn.log)}")
        else:
            check(status != 200, f"{binary}: {what}: succeeded, but should fail: {short(body)}")
            check(isinstance(body, dict) and expect_error in body.get("errorMessage", ""),
                  f"{binary}: {what}: error {short(body, 600)} does not say {expect_error!r}")
            check(fn.alive(), f"{binary}: the process exited after a bad event:\n{tail(fn.log)}")
        self.last = (what, seconds)
        return body

    def say(self, binary, result):
        what, seconds = self.last
        print(f"{binary}: {what}: {result} ({seconds:.1f} s)", flush=True)

    def bad(self, binary, payload, expect):
        body = self.invoke(binary, f"bad event '{short(payload.decode(), 60)}'", payload, expect)
        self.say(binary, f"invocation error, {short(body['errorMessage'], 120)}")

    # -- services

    def setup(self):
        self.s3.create_bucket(Bucket=self.bucket)
        self.glue.create_database(DatabaseInput={"Name": self.names["GlueDatabase"]})
        self.glue.create_crawler(
            Name=self.names["LakeCrawler"], Role=f"arn:aws:iam::{ACCOUNT}:role/stockstream-crawler",
            DatabaseName=self.names["GlueDatabase"],
            Targets={"S3Targets": [{"Path": f"s3://{self.bucket}/lake/bars/"}]})
        self.athena.create_work_group(Name=self.names["AthenaWorkGroup"])
        arn = self.sns.create_topic(Name=self.names["ReportsTopic"].rsplit(":", 1)[1])["TopicArn"]
        check(arn == self.names["ReportsTopic"], f"moto named the SNS topic {arn}")
        admin = AdminClient({"bootstrap.servers": self.brokers, "log_level": 3})
        for f in admin.create_topics([NewTopic(self.topic, num_partitions=3, replication_factor=1)],
                                     request_timeout=30).values():
            f.result(timeout=60)

    def start(self):
        paths = self.binaries()
        self.emulator = Emulator(self.cargo_lambda, self.work)
        for b in BINARIES:
            self.running[b] = Function(b, paths[b], self.env(b, self.emulator.runtime_api), self.work)

    def stop(self):
        for fn in self.running.values():
            fn.stop()
        if getattr(self, "emulator", None):
            self.emulator.stop()

    # -- readers (independent of the functions' code)

    def keys(self, prefix):
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out += [o["Key"] for o in page.get("Contents", [])]
        return sorted(out)

    def lake(self):
        """The lake's data objects (not state, quarantine or manifests) and their rows."""
        prefix = self.template.value(self.functions["sink"]["Variables"]["SINK_PREFIX"]) + "/"
        objects = [k for k in self.keys(prefix)
                   if k[len(prefix):].startswith("year=") and k.endswith(".parquet")]
        rows = []
        for k in objects:
            body = self.s3.get_object(Bucket=self.bucket, Key=k)["Body"].read()
            for r in pq.read_table(io.BytesIO(body)).to_pylist():
                rows.append({c: (v.isoformat() if isinstance(v, (datetime.date, datetime.datetime)) else v)
                             for c, v in r.items()})
        return objects, rows

    def topic_messages(self):
        c = Consumer({"bootstrap.servers": self.brokers, "group.id": f"rtapi-{time.time_ns()}",
                      "enable.auto.commit": False})
        try:
            parts = c.list_topics(self.topic, timeout=30).topics[self.topic].partitions
            ends, tps = {}, []
            for p in sorted(parts):
                low, high = c.get_watermark_offsets(TopicPartition(self.topic, p), timeout=30)
                tps.append(TopicPartition(self.topic, p, low))
                if high > low:
                    ends[p] = high
            c.assign(tps)
            out, deadline = [], time.monotonic() + 60
            while ends and time.monotonic() < deadline:
                m = c.poll(0.2)
                if m is None:
                    continue
                check(not m.error(), f"reading {self.topic}: {m.error()}")
                if m.partition() in ends and m.offset() + 1 >= ends[m.partition()]:
                    del ends[m.partition()]
                out.append(m)
            check(not ends, f"reading {self.topic}: partitions {sorted(ends)} did not reach their end in 60 s")
            return [{"key": m.key().decode(), "value": message_value(m.value()),
                     "headers": {k: v.decode() for k, v in (m.headers() or [])}} for m in out]
        finally:
            c.close()

    # -- the functions

    def sink(self):
        sample_path = EVENTS / "sink-kafka-batch.json"
        sample = sample_path.read_bytes()
        event = json.loads(sample)
        records = [r for part in event["records"].values() for r in part]
        offsets = sorted(r["offset"] for r in records)
        bars = Counter((v["symbol"], v["date"]) for v in
                       (json.loads(base64.b64decode(r["value"])) for r in records))
        n = len(records)

        s = self.invoke("sink", "the sample batch (events/sink-kafka-batch.json)", sample)
        check((s["records_in"], s["rows_written"], s["already_stored"]) == (n, n, 0), f"sink: {s}")
        self.say("sink", f"{s['rows_written']} rows written in {s['objects_written']} objects")
        s = self.invoke("sink", "the same batch again", sample)
        check((s["rows_written"], s["already_stored"]) == (0, n), f"sink, again: {s}")
        _, rows = self.lake()
        check(sorted(r["kafka_offset"] for r in rows) == offsets,
              f"the lake's offsets after two deliveries: {sorted(r['kafka_offset'] for r in rows)}")
        check(Counter((r["symbol"], r["trade_date"]) for r in rows) == bars,
              "the lake's bars are not the sample's")
        self.say("sink", f"0 written, {s['already_stored']} already stored; the lake holds offsets "
                         f"{offsets[0]}-{offsets[-1]} once each")

        self.bad("sink", b'{"not":"an event"}', "missing field `eventSource`")

        # The next trigger batch: the same records at the following offsets.
        following = copy.deepcopy(event)
        for part in following["records"].values():
            for r in part:
                r["offset"] += n
        path = self.work / "sink-next-batch.json"
        path.write_text(json.dumps(following, indent=1))
        s = self.invoke("sink", f"the next batch (offsets {offsets[0] + n}-{offsets[-1] + n})",
                        path.read_bytes())
        check((s["rows_written"], s["already_stored"]) == (n, 0), f"sink, next batch: {s}")
        _, rows = self.lake()
        want = offsets + [o + n for o in offsets]
        check(sorted(r["kafka_offset"] for r in rows) == want, "the lake's offsets after the next batch")
        self.say("sink", f"{s['rows_written']} rows written by the same process; "
                         f"the lake holds {len(rows)} rows")

    def compact(self):
        before, rows_before = self.lake()
        folders = {k.rsplit("/", 1)[0] for k in before}
        check(len(before) > len(folders), f"nothing to compact: {before}")
        event = (EVENTS / "compact-scheduled.json").read_bytes()
        o = self.invoke("compact", "scheduled (events/compact-scheduled.json)", event)
        after, rows_after = self.lake()
        check((o["folders"], o["objects_merged"], o["objects_written"], o["rows"])
              == (len(folders), len(before), len(folders), len(rows_before)), f"compact: {o}")
        check(len(after) == len(folders) and {k.rsplit("/", 1)[0] for k in after} == folders,
              f"after compaction: {after}")
        key = lambda r: json.dumps(r, sort_keys=True, default=str)  # noqa: E731
        check(Counter(map(key, rows_after)) == Counter(map(key, rows_before)),
              "compaction changed the lake's rows")
        self.say("compact", f"{len(before)} objects merged into {len(after)} "
                            f"({len(folders)} folders), the same {len(rows_after)} rows")

        self.bad("compact", b"not an event", "failed to deserialize")

        o = self.invoke("compact", "scheduled again", event)
        check(o["objects_merged"] == 0 and self.lake()[0] == after, f"compact, again: {o}")
        self.say("compact", "nothing left to merge")

    def replay(self):
        event = json.loads((EVENTS / "replay-s3-put.json").read_text())
        csv = (ROOT / "producer/data/indexProcessed_head.csv").read_text()
        uploaded = {}
        for rec in event["Records"]:
            rec["s3"]["bucket"]["name"] = self.bucket
            rec["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{self.bucket}"
            key = urllib.parse.unquote_plus(rec["s3"]["object"]["key"])
            if not key.endswith(".csv"):
                continue
            # Each CSV the event names is the producer's sample file (HSI rows only).
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=csv.encode())
            uploaded[f"s3://{self.bucket}/{key}"] = csv.splitlines()
        path = self.work / "replay-s3-put.json"
        path.write_text(json.dumps(event, indent=1))

        o = self.invoke("replay", "the sample drop (events/replay-s3-put.json)", path.read_bytes())
        got = {r["source"]: r for r in o["objects"]}
        check(set(got) == set(uploaded), f"replayed {sorted(got)}, dropped {sorted(uploaded)}")
        check(len(o["skipped"]) == len(event["Records"]) - len(uploaded), f"skipped: {o['skipped']}")
        for source, r in got.items():
            check(r["complete"] and not r["continued"], f"{source}: {r}")
            check(r["rows"] == len(uploaded[source]) - 1 and r["delivered"] + r["rejected"] == r["rows"],
                  f"{source}: {r}")
        messages = self.topic_messages()
        seen = Counter()
        for m in messages:
            if m["value"]["v"] == 2:
                # Message format v2 carries its provenance in the value, and no headers.
                check(not m["headers"], f"a version 2 message with headers: {m}")
                source, line = m["value"]["source"], m["value"]["line"]
            else:
                source, line = m["headers"]["source"], int(m["headers"]["line"])
            check(source in uploaded, f"a message from {source}")
            cells = uploaded[source][line - 1].split(",")
            check((m["key"], m["value"]["symbol"], m["value"]["date"]) == (cells[0], cells[0], cells[1]),
                  f"{source} line {line}: {m} is not {cells}")
            seen[(source, line)] += 1
        check(max(seen.values()) == 1, "a row was sent twice")
        for source, r in got.items():
            check(sum(1 for s, _ in seen if s == source) == r["delivered"],
                  f"{source}: {r['delivered']} delivered, the topic holds another number")
        self.say("replay", ", ".join(f"{r['delivered']} rows of {s.rsplit('/', 1)[1]}" for s, r in got.items())
                 + f" in {self.topic}, each once, keyed and traced to its CSV line; skipped: {short(o['skipped'], 80)}")

        self.bad("replay", b'{"Records": [{"eventName": "ObjectCreated:Put"}]}', "missing field")

        o = self.invoke("replay", "the same drop again", path.read_bytes())
        check(all(r["already_replayed"] and r["delivered"] == 0 for r in o["objects"]), f"replay, again: {o}")
        check(len(self.topic_messages()) == len(messages), "the second delivery sent rows again")
        self.say("replay", "already replayed, nothing sent")

    def end_crawl_soon(self):
        """What a finished Glue crawl does, for moto: once the crawler runs, `ListCrawls`
        moves moto's crawl to its end (moto 5.2.5, `glue::crawl` transition)."""
        name = self.names["LakeCrawler"]

        def run():
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if self.glue.get_crawler(Name=name)["Crawler"]["State"] == "RUNNING":
                    self.glue.list_crawls(CrawlerName=name)
                    return
                time.sleep(0.2)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def crawler(self):
        db = self.names["GlueDatabase"]
        objects, _ = self.lake()
        years = sorted({re.search(r"year=(\d+)", k).group(1) for k in objects})
        # What a crawl of the lake leaves (moto's crawls create nothing): the bars table.
        self.glue.create_table(DatabaseName=db, TableInput={
            "Name": "bars", "PartitionKeys": [{"Name": "year", "Type": "string"}],
            "StorageDescriptor": {"Location": f"s3://{self.bucket}/lake/bars/",
                                  "Columns": [{"Name": "symbol", "Type": "string"}]}})
        self.glue.batch_create_partition(DatabaseName=db, TableName="bars",
                                         PartitionInputList=[{"Values": [y]} for y in years])
        event = (EVENTS / "crawler-scheduled.json").read_bytes()
        for what in ("scheduled (events/crawler-scheduled.json)", "scheduled again"):
            ender = self.end_crawl_soon()
            s = self.invoke("crawler", what, event)
            ender.join(timeout=5)
            w = s.get("wait") or {}
            check(s["outcome"] == "started" and w.get("finished") and w.get("state") == "READY",
                  f"crawler: {s}")
            tables = [(t["name"], t["partitions"]) for t in s["tables"]]
            check(tables == [("bars", len(years))], f"crawler tables: {s['tables']}")
            self.say("crawler", f"started {s['crawler']}, waited {w['waited_ms']} ms for the crawl "
                                f"({w['polls']} polls), then listed the tables {tables}")
            if what.startswith("scheduled ("):
                self.bad("crawler", b'{"time": 1764115200}', "invalid type: integer")

    def queue_athena_results(self):
        """One result per insight, in the order the function runs them (moto hands each
        queued result to the next query): the header the insight declares, no rows."""
        mod = (ROOT / "core/src/insights/mod.rs").read_text()
        names = re.findall(r'include_str!\("sql/(\w+)\.sql"\)', mod)
        check(len(names) == 10, f"insights found in core/src/insights/mod.rs: {names}")
        results = []
        for name in names:
            sql = (ROOT / f"core/src/insights/sql/{name}.sql").read_text()
            cols = [c.strip() for c in re.search(r"^-- columns:(.*)$", sql, re.M).group(1).split(",")]
            results.append({
                "rows": [{"Data": [{"VarCharValue": c} for c in cols]}],
                "column_info": [{"Name": c, "Label": c, "Type": "varchar", "Nullable": "UNKNOWN",
                                 "CaseSensitive": True} for c in cols],
            })
        req = urllib.request.Request(f"{self.moto}/moto-api/static/athena/query-results",
                                     data=json.dumps({"region": REGION, "results": results}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            check(r.status in (200, 201), f"moto: queueing Athena results: HTTP {r.status}")
        return len(names)

    def insights(self):
        variables = {k: self.template.value(v) for k, v in self.functions["insights"]["Variables"].items()}
        sample = EVENTS / "insights-scheduled.json"
        fired = datetime.datetime.fromisoformat(json.loads(sample.read_text())["time"].replace("Z", "+00:00"))
        to = fired.date() - datetime.timedelta(days=1)
        since = to - datetime.timedelta(days=int(variables["REPORT_DAYS"]))
        queries = 0
        for what in ("scheduled (events/insights-scheduled.json)", "scheduled again"):
            n = self.queue_athena_results()
            out = self.invoke("insights", what, sample.read_bytes())
            queries += n
            check((out["succeeded"], out["failed"]) == (n, 0), f"insights: {out}")
            prefix = f"s3://{self.bucket}/{variables['REPORT_PREFIX']}/"
            check(out["report"].startswith(prefix) and out["report"].endswith("/report.html"),
                  f"insights: report at {out['report']}")
            folder = out["report"][len(f"s3://{self.bucket}/"):].rsplit("/", 1)[0]
            files = [k.rsplit("/", 1)[1] for k in self.keys(folder + "/")]
            check({"report.html", "report.json"} <= set(files) and sum(f.endswith(".csv") for f in files) == n,
                  f"insights: the report folder holds {files}")
            report = json.loads(self.s3.get_object(Bucket=self.bucket, Key=f"{folder}/report.json")["Body"].read())
            p = report["params"]
            check((p["from"], p["to"], p["symbols"]) == (since.isoformat(), to.isoformat(), []),
                  f"insights: report params {p}")
            ids = self.athena.list_query_executions(WorkGroup=self.names["AthenaWorkGroup"])["QueryExecutionIds"]
            check(len(ids) == queries, f"insights: {len(ids)} queries in the workgroup, not {queries}")
            for i in ids:
                q = self.athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]
                check(q["QueryExecutionContext"]["Database"] == variables["ATHENA_DATABASE"]
                      and q["ResultConfiguration"]["OutputLocation"].startswith(variables["ATHENA_OUTPUT"]),
                      f"insights: query {i}: {q}")
            self.say("insights", f"{out['succeeded']} insights on Athena ({p['from']} to {p['to']}), "
                                 f"report at {out['report']}")
            if what.startswith("scheduled ("):
                self.bad("insights", b'{"time": "2026-11-26T06:00:00Z", "detail": {"from": "2026-02-30"}}',
                         "bad report parameter")


def build():
    cmd = ["cargo", "build", "--locked"] + [a for b in BINARIES for a in ("--bin", b)]
    print("runtime-api: " + " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, timeout=3600)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", action="store_true")
    ap.add_argument("--bin-dir")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    # A SIGTERM (a test harness giving up) still stops every process this script started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    work = Path(tempfile.mkdtemp(prefix="stockstream-runtime-api."))
    started = time.monotonic()
    run = None
    ok = False
    try:
        if args.build:
            build()
        run = Run(args, work)
        run.setup()
        run.start()
        for b in BINARIES:
            getattr(run, b)()
        for b, fn in run.running.items():
            check(fn.alive(), f"{b}: the process exited:\n{tail(fn.log)}")
        print(f"runtime-api: {len(BINARIES)} functions, {run.invocations} invocations ok "
              f"in {time.monotonic() - started:.0f} s", flush=True)
        ok = True
        return 0
    except CannotRun as e:
        print(f"runtime-api: cannot run: {e}", file=sys.stderr)
        return 2
    except Failed as e:
        print(f"runtime-api: FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        if run:
            run.stop()
        if (ok and not args.keep) or not any(work.iterdir()):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"runtime-api: logs and events in {work}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
