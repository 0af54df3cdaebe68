#!/usr/bin/env python3
"""Checks template.yaml against the code it deploys.

For every function the template builds with cargo-lambda (Metadata.BuildMethod
rust-cargolambda):
  - BuildProperties.Binary is a [[bin]] of a workspace member (Cargo.toml `members`, parsed
    with tomllib), so `sam build` builds something that exists;
  - CodeUri is the workspace root, Runtime provided.al2023 and Handler bootstrap (what
    cargo-lambda's output needs), after merging Globals;
  - every environment variable the binary's crate reads is set in the function's Environment
    (or in Globals). "Reads" means `get("NAME")` (the config modules read through a `get`
    closure), a call of a closure or fn that hands its first argument to `get` (such as
    `required("NAME", ...)`), a reader method of the shared `Env` (`env.seconds("NAME", ...)`),
    or `env::var("NAME")` / `env::var_os("NAME")`, in src/**/*.rs of the crate and of the
    workspace crates it depends on, outside `#[cfg(test)]`, comments and modules compiled only
    with the `test-support` feature, and outside the root files of the crate's other binaries.
    Variables Lambda sets itself (AWS_LAMBDA_*, AWS_REGION, ...) are not expected in the
    template.

For every AWS::CloudWatch::Alarm:
  - its AlarmActions include the ops topic (`!Ref AlarmTopic`, or --ops-topic), so no alarm
    fires unheard;
  - every dimension of its metric (or of each metric of its math expression) names a resource
    of this template of the kind the dimension means (FunctionName or Function: a function,
    EventSourceMappingUUID: an event source mapping, QueueName: a queue, BucketName: a bucket,
    RuleName: an EventBridge rule, InstanceId: an instance), by !Ref or !GetAtt, not a literal;
  - an alarm on a conditional resource carries that resource's condition (or an !And of it),
    so the alarm never points at a resource the stack did not create.
The latency preset: every AWS::Lambda::EventSourceMapping's batching window, resolved with
the parameters' defaults and LatencyPreset set to each of its allowed values, is 1 s under
`low` and SinkBatchingWindowSeconds under the others (the freshness BENCHMARKS.md measures).

A custom metric (a namespace that is not AWS/...) with a Function dimension is looked up in
the code of that function's crate: a metric name that appears nowhere there as a string is a
note, not a failure (the code may not emit it yet).

Usage: .ci/check-template.py [--template FILE] [--allow-missing BINARY]... [--ops-topic ID]
--allow-missing lets a function whose binary is not (yet) in the workspace pass with a note
instead of failing. Exit status: 0 all good, 1 a check failed, 2 the inputs cannot be read.
"""

import argparse
import glob
import os
import re
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    sys.exit("check-template: needs Python 3.11 or later (tomllib)")
try:
    import yaml
except ModuleNotFoundError:
    sys.exit("check-template: needs PyYAML (run it with the venv of .ci/setup: $STOCKSTREAM_SAM's python)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Set by the Lambda runtime, never by the template (Lambda refuses most of them anyway).
RUNTIME_VARIABLES = {
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_XRAY_CONTEXT_MISSING",
    "AWS_XRAY_DAEMON_ADDRESS",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "TZ",
}


def is_runtime_variable(name):
    return name.startswith("AWS_LAMBDA_") or name in RUNTIME_VARIABLES


# --- template -------------------------------------------------------------------------------


class CfnLoader(yaml.SafeLoader):
    """PyYAML's safe loader plus CloudFormation's short tags (!Ref, !Sub, !GetAtt, !If, ...),
    read into their long JSON forms."""


def _cfn_tag(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + tag_suffix: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path):
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.load(f, Loader=CfnLoader)  # noqa: S506 (a SafeLoader subclass)
    except (OSError, yaml.YAMLError) as e:
        print(f"check-template: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)


# --- workspace ------------------------------------------------------------------------------


def read_toml(path):
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        print(f"check-template: cannot read {path}: {e}", file=sys.stderr)
        sys.exit(2)


def workspace_members(root):
    """Member directories (relative to root) of the workspace, globs expanded."""
    ws = read_toml(os.path.join(root, "Cargo.toml")).get("workspace", {})
    excluded = {os.path.normpath(e) for e in ws.get("exclude", [])}
    members = []
    for pattern in ws.get("members", []):
        for d in sorted(glob.glob(os.path.join(root, pattern))) or [os.path.join(root, pattern)]:
            rel = os.path.normpath(os.path.relpath(d, root))
            if rel not in excluded and os.path.isfile(os.path.join(root, rel, "Cargo.toml")):
                members.append(rel)
    return members, ws.get("dependencies", {})


def crate_binaries(root, member):
    """Binary target names of one crate, as Cargo finds them: the [[bin]] entries, plus
    src/main.rs (named after the package) and src/bin/* unless declared or autobins = false."""
    manifest = read_toml(os.path.join(root, member, "Cargo.toml"))
    package = manifest.get("package", {})
    declared = manifest.get("bin", [])
    names = {b["name"] for b in declared if "name" in b}
    if package.get("autobins", True) is False:
        return names
    declared_paths = {os.path.normpath(b["path"]) for b in declared if "path" in b}
    src = os.path.join(root, member, "src")
    if os.path.isfile(os.path.join(src, "main.rs")) and os.path.normpath("src/main.rs") not in declared_paths:
        names.add(package.get("name", os.path.basename(member)))
    for f in glob.glob(os.path.join(src, "bin", "*.rs")) + glob.glob(os.path.join(src, "bin", "*", "main.rs")):
        rel = os.path.normpath(os.path.relpath(f, os.path.join(root, member)))
        if rel not in declared_paths:
            stem = os.path.basename(os.path.dirname(f)) if f.endswith(os.sep + "main.rs") else os.path.splitext(os.path.basename(f))[0]
            names.add(stem)
    return names


def workspace_path_dependencies(root, member, members, ws_deps):
    """Workspace members that `member` depends on (normal dependencies, by path)."""
    manifest = read_toml(os.path.join(root, member, "Cargo.toml"))
    found = []
    for name, spec in manifest.get("dependencies", {}).items():
        if not isinstance(spec, dict):
            continue
        if spec.get("workspace"):
            spec = ws_deps.get(name, {})
            base = root
        else:
            base = os.path.join(root, member)
        path = spec.get("path") if isinstance(spec, dict) else None
        if path:
            rel = os.path.normpath(os.path.relpath(os.path.join(base, path), root))
            if rel in members:
                found.append(rel)
    return found


# --- environment variables read by the code -------------------------------------------------

# A variable is read by name through `get` (the config modules' lookup, which `main` makes
# `|k| std::env::var(k).ok()`) or through a closure or fn that passes its first parameter on
# to such a reader (insights: `let value = |k: &str| get(k)...; let required = |k, what|
# value(k)...`), so `required("ATHENA_WORKGROUP", ...)` reads ATHENA_WORKGROUP too.
ENV_CALL = re.compile(r'\benv::var(?:_os)?\(\s*"([A-Z][A-Z0-9_]*)"\s*\)')
# The readers of the shared settings type (stockstream_lambda::config::Env): `env.required(
# "NAME", ...)`, `Env::new(&get).seconds("NAME", ...)`, ...
ENV_METHOD = re.compile(r'\.(?:raw|value|or|required|number|seconds|prefix|bucket)\(\s*"([A-Z][A-Z0-9_]*)"')
# Modules compiled only for test suites (`#[cfg(feature = "test-support")] pub mod NAME;`):
# what they read is no function's setting.
TEST_SUPPORT_MOD = re.compile(r'#\[cfg\(feature\s*=\s*"test-support"\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;')
LET_CLOSURE = re.compile(r"\blet\s+(\w+)\s*=\s*(?:move\s+)?\|\s*(\w+)[^|]*\|")
FN_ITEM = re.compile(r"\bfn\s+(\w+)\s*(?:<[^>{]*>)?\(\s*(\w+)\s*:")


def code_without_tests_and_comments(text):
    """The file up to its first `#[cfg(test)]`, without line and doc comments."""
    cut = text.find("#[cfg(test)]")
    if cut >= 0:
        text = text[:cut]
    # Comment lines are blanked, not dropped, so line numbers stay those of the file.
    return "\n".join("" if line.lstrip().startswith("//") else line for line in text.splitlines())


def _body(code, start, is_fn):
    """The text of a closure body (up to `;` or `,` at depth 0) or a fn body (its braces)."""
    depth, i = 0, start
    if is_fn:
        i = code.find("{", start)
        if i < 0:
            return ""
    for j in range(i, len(code)):
        c = code[j]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0 or (is_fn and depth == 0):
                return code[i : j + 1]
        elif c in ";," and depth == 0 and not is_fn:
            return code[i:j]
    return code[i:]


def readers(code):
    """Names of the functions and closures of `code` that read a variable by their first argument."""
    names = {"get"}
    candidates = [(m.group(1), m.group(2), _body(code, m.end(), False)) for m in LET_CLOSURE.finditer(code)]
    candidates += [(m.group(1), m.group(2), _body(code, m.end(), True)) for m in FN_ITEM.finditer(code)]
    grown = True
    while grown:
        grown = False
        for name, param, body in candidates:
            if name in names:
                continue
            call = re.compile(r"(?<![\w.])(?:%s)\(\s*%s\b" % ("|".join(sorted(names)), re.escape(param)))
            if call.search(body):
                names.add(name)
                grown = True
    return names


def other_binaries_roots(root, crate, binary):
    """The root files ([[bin]] path) of the crate's other binaries: what one binary's `main`
    reads (the compaction's lock key) is not read by its sibling (the sink)."""
    manifest = read_toml(os.path.join(root, crate, "Cargo.toml"))
    return {
        os.path.normpath(os.path.join(root, crate, b["path"]))
        for b in manifest.get("bin", [])
        if "path" in b and b.get("name") != binary
    }


def variables_read(root, crate_dirs, exclude=frozenset()):
    """{NAME: [file:line, ...]} for every variable the crates read, outside the `exclude`d files."""
    found = {}
    for crate in crate_dirs:
        paths = sorted(glob.glob(os.path.join(root, crate, "src", "**", "*.rs"), recursive=True))
        test_support = set()
        for path in paths:
            with open(path, encoding="utf-8") as f:
                for m in TEST_SUPPORT_MOD.finditer(f.read()):
                    d = os.path.dirname(path)
                    test_support |= {os.path.normpath(os.path.join(d, m.group(1) + ".rs")),
                                     os.path.normpath(os.path.join(d, m.group(1), "mod.rs"))}
        for path in paths:
            if os.path.normpath(path) in exclude or os.path.normpath(path) in test_support:
                continue
            with open(path, encoding="utf-8") as f:
                code = code_without_tests_and_comments(f.read())
            by_name = re.compile(r'(?<![\w.])(?:%s)\(\s*"([A-Z][A-Z0-9_]*)"' % "|".join(sorted(readers(code))))
            for lineno, line in enumerate(code.splitlines(), 1):
                for pattern in (by_name, ENV_CALL):
                    for m in pattern.finditer(line):
                        found.setdefault(m.group(1), []).append(f"{os.path.relpath(path, root)}:{lineno}")
            # Method calls rustfmt may break after the parenthesis: matched over the file.
            for m in ENV_METHOD.finditer(code):
                lineno = code.count("\n", 0, m.start()) + 1
                found.setdefault(m.group(1), []).append(f"{os.path.relpath(path, root)}:{lineno}")
    return found


# --- alarms ---------------------------------------------------------------------------------

# Dimension name -> resource types it may name.
DIMENSION_TYPES = {
    "FunctionName": {"AWS::Serverless::Function", "AWS::Lambda::Function"},
    "Function": {"AWS::Serverless::Function", "AWS::Lambda::Function"},
    "EventSourceMappingUUID": {"AWS::Lambda::EventSourceMapping"},
    "QueueName": {"AWS::SQS::Queue"},
    "BucketName": {"AWS::S3::Bucket"},
    "RuleName": {"AWS::Events::Rule"},
    "InstanceId": {"AWS::EC2::Instance"},
    "TopicName": {"AWS::SNS::Topic"},
}
# Dimensions whose value is a fixed word, not a resource.
FIXED_DIMENSIONS = {"StorageType"}


def referenced_resource(value):
    """The logical id a dimension value points at (!Ref X, !GetAtt X.attr), or None."""
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref" and isinstance(arg, str):
            return arg
        if key == "Fn::GetAtt" and isinstance(arg, list) and arg:
            return arg[0]
    return None


def alarm_metrics(props):
    """(namespace, metric name, dimensions) of a plain alarm or of each metric of its math."""
    if props.get("MetricName"):
        yield props.get("Namespace"), props.get("MetricName"), props.get("Dimensions") or []
    for m in props.get("Metrics") or []:
        metric = ((m or {}).get("MetricStat") or {}).get("Metric") or {}
        if metric:
            yield metric.get("Namespace"), metric.get("MetricName"), metric.get("Dimensions") or []


def condition_implies(template, have, want):
    """Whether condition `have` (of the alarm) can only be true when `want` is."""
    if have == want:
        return True
    definition = (template.get("Conditions") or {}).get(have)
    if isinstance(definition, dict) and "Fn::And" in definition:
        return any(
            isinstance(c, dict) and "Condition" in c and condition_implies(template, c["Condition"], want)
            for c in definition["Fn::And"]
        )
    return False


def check_alarms(template, ops_topic, code_strings):
    """Failures and notes for every alarm of the template."""
    resources = template["Resources"]
    failures, notes, count = [], [], 0
    if resources.get(ops_topic, {}).get("Type") != "AWS::SNS::Topic":
        failures.append(f"the ops topic {ops_topic} is not an AWS::SNS::Topic of the template")
    for alarm_id, alarm in resources.items():
        if not isinstance(alarm, dict) or alarm.get("Type") != "AWS::CloudWatch::Alarm":
            continue
        count += 1
        props = alarm.get("Properties") or {}
        actions = props.get("AlarmActions") or []
        if {"Ref": ops_topic} not in actions:
            failures.append(f"{alarm_id}: AlarmActions does not include !Ref {ops_topic}")
        metrics = list(alarm_metrics(props))
        if not metrics:
            failures.append(f"{alarm_id}: no metric found (MetricName or Metrics[].MetricStat)")
        for namespace, name, dimensions in metrics:
            if not dimensions:
                failures.append(f"{alarm_id}: metric {name} has no dimensions, so it watches no resource of the stack")
            for d in dimensions:
                dim_name, value = d.get("Name"), d.get("Value")
                if dim_name in FIXED_DIMENSIONS:
                    continue
                target = referenced_resource(value)
                kinds = DIMENSION_TYPES.get(dim_name)
                if kinds is None:
                    failures.append(f"{alarm_id}: dimension {dim_name} is not one this check knows (add it to DIMENSION_TYPES)")
                    continue
                if target is None:
                    failures.append(f"{alarm_id}: dimension {dim_name} is {value!r}, not a !Ref/!GetAtt of a resource")
                    continue
                resource = resources.get(target)
                if not isinstance(resource, dict):
                    failures.append(f"{alarm_id}: dimension {dim_name} names {target}, which the template does not define")
                    continue
                if resource.get("Type") not in kinds:
                    failures.append(
                        f"{alarm_id}: dimension {dim_name} names {target}, a {resource.get('Type')}, not {' or '.join(sorted(kinds))}"
                    )
                    continue
                wanted = resource.get("Condition")
                if wanted and not (alarm.get("Condition") and condition_implies(template, alarm["Condition"], wanted)):
                    failures.append(
                        f"{alarm_id}: watches {target}, which exists only if {wanted}, but the alarm's condition is {alarm.get('Condition')!r}"
                    )
                if (
                    dim_name == "Function"
                    and isinstance(namespace, (str, dict))
                    and not (isinstance(namespace, str) and namespace.startswith("AWS/"))
                    and target in code_strings
                    and name not in code_strings[target]
                ):
                    notes.append(f"{alarm_id}: custom metric {name} does not appear in the code of {target} (not emitted yet?)")
    return failures, notes, count


def string_literals(root, crate_dirs):
    """Every string literal in the crates' src/**/*.rs (outside tests), for metric names."""
    found = set()
    for crate in crate_dirs:
        for path in glob.glob(os.path.join(root, crate, "src", "**", "*.rs"), recursive=True):
            with open(path, encoding="utf-8") as f:
                found.update(re.findall(r'"([A-Za-z][A-Za-z0-9_]*)"', code_without_tests_and_comments(f.read())))
    return found


# --- the check ------------------------------------------------------------------------------


def resolve(template, value, parameters):
    """`value` with !Ref (of a parameter), !If, !Equals, !Not, !And, !Or and conditions
    evaluated for `parameters` (name: value; the others take their Default)."""
    conditions = template.get("Conditions") or {}

    def param(name):
        if name in parameters:
            return parameters[name]
        return ((template.get("Parameters") or {}).get(name) or {}).get("Default")

    def ev(v):
        if isinstance(v, dict) and len(v) == 1:
            (k, x), = v.items()
            if k == "Ref":
                return param(x)
            if k == "Condition":
                return ev(conditions[x])
            if k == "Fn::If":
                return ev(x[1]) if ev(conditions[x[0]]) else ev(x[2])
            if k == "Fn::Equals":
                return str(ev(x[0])) == str(ev(x[1]))
            if k == "Fn::Not":
                return not ev(x[0])
            if k == "Fn::And":
                return all(ev(c) for c in x)
            if k == "Fn::Or":
                return any(ev(c) for c in x)
        return v

    return ev(value)


def check_latency_preset(template):
    """Failures, and the number of mappings checked (see the module doc)."""
    failures, checked = [], 0
    presets = ((template.get("Parameters") or {}).get("LatencyPreset") or {}).get("AllowedValues") or []
    if "low" not in presets:
        return ["Parameters.LatencyPreset does not offer `low`"], 0
    window = ((template.get("Parameters") or {}).get("SinkBatchingWindowSeconds") or {}).get("Default")
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Lambda::EventSourceMapping":
            continue
        raw = (resource.get("Properties") or {}).get("MaximumBatchingWindowInSeconds")
        if raw is None:
            continue
        checked += 1
        for preset in presets:
            got = resolve(template, raw, {"LatencyPreset": preset})
            want = 1 if preset == "low" else window
            if str(got) != str(want):
                failures.append(f"{logical_id}: batching window {got!r} under LatencyPreset={preset}, expected {want!r}")
    if checked == 0:
        failures.append("no event source mapping sets MaximumBatchingWindowInSeconds")
    return failures, checked


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--template", default=os.path.join(ROOT, "template.yaml"))
    ap.add_argument(
        "--allow-missing",
        action="append",
        default=[],
        metavar="BINARY",
        help="a function whose Binary is not a workspace binary yet is noted, not failed",
    )
    ap.add_argument(
        "--ops-topic",
        default="AlarmTopic",
        metavar="ID",
        help="logical id of the SNS topic every alarm must notify (default AlarmTopic)",
    )
    args = ap.parse_args()

    template = load_template(args.template)
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        print(f"check-template: {args.template} has no Resources", file=sys.stderr)
        return 2
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    global_vars = ((globals_fn.get("Environment") or {}).get("Variables")) or {}

    members, ws_deps = workspace_members(ROOT)
    bin_to_crate = {}
    for m in members:
        for b in crate_binaries(ROOT, m):
            bin_to_crate.setdefault(b, m)

    failures, notes, checked = [], [], 0
    code_strings = {}  # function logical id -> string literals of its crate(s)
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        metadata = resource.get("Metadata") or {}
        props = {**globals_fn, **(resource.get("Properties") or {})}
        where = f"{logical_id}"
        if metadata.get("BuildMethod") != "rust-cargolambda":
            failures.append(f"{where}: Metadata.BuildMethod is {metadata.get('BuildMethod')!r}, not rust-cargolambda")
            continue
        binary = (metadata.get("BuildProperties") or {}).get("Binary")
        if not binary:
            failures.append(f"{where}: Metadata.BuildProperties.Binary is not set")
            continue
        for key, want in (("CodeUri", "."), ("Runtime", "provided.al2023"), ("Handler", "bootstrap")):
            if props.get(key) != want:
                failures.append(f"{where}: {key} is {props.get(key)!r}, expected {want!r} (here or in Globals)")
        crate = bin_to_crate.get(binary)
        if crate is None:
            message = (
                f"{where}: Binary {binary} is not a workspace binary "
                f"(binaries: {', '.join(sorted(bin_to_crate))})"
            )
            if binary in args.allow_missing:
                notes.append(f"{message}; allowed by --allow-missing {binary}, its environment is not checked")
            else:
                failures.append(message)
            continue
        if binary in args.allow_missing:
            notes.append(f"{where}: Binary {binary} exists now ({crate}); --allow-missing {binary} is no longer needed")
        checked += 1

        local_vars = ((props.get("Environment") or {}).get("Variables")) or {}
        if not isinstance(local_vars, dict):
            failures.append(f"{where}: Environment.Variables is not a mapping the check can read")
            continue
        env = {**global_vars, **local_vars}
        crates = [crate] + workspace_path_dependencies(ROOT, crate, members, ws_deps)
        code_strings[logical_id] = string_literals(ROOT, crates)
        others = other_binaries_roots(ROOT, crate, binary)
        read = {k: v for k, v in variables_read(ROOT, crates, others).items() if not is_runtime_variable(k)}
        missing = sorted(k for k in read if k not in env)
        for name in missing:
            failures.append(f"{where} (bin {binary}, {crate}): reads {name} ({read[name][0]}) but the template does not set it")
        for name in sorted(k for k in local_vars if k not in read):
            notes.append(f"{where}: sets {name}, which {crate} does not read")
        if not missing:
            print(f"ok: {where}: bin {binary} ({crate}); sets all {len(read)} variables it reads: {', '.join(sorted(read))}")

    alarm_failures, alarm_notes, alarms = check_alarms(template, args.ops_topic, code_strings)
    failures += alarm_failures
    notes += alarm_notes
    if alarms and not alarm_failures:
        print(f"ok: {alarms} alarm(s) notify {args.ops_topic} and watch resources of the template")

    preset_failures, mappings = check_latency_preset(template)
    failures += preset_failures
    if mappings and not preset_failures:
        print(f"ok: LatencyPreset=low gives {mappings} trigger(s) a 1 s batching window")

    for n in notes:
        print(f"note: {n}")
    if checked == 0 and not failures:
        failures.append("no rust-cargolambda function was found in the template")
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    if failures:
        print(f"check-template: {len(failures)} problem(s) in {os.path.relpath(args.template, ROOT)}", file=sys.stderr)
        return 1
    print(f"check-template: {checked} function(s) match the code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
