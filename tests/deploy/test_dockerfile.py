"""The image's build instructions keep the rules the manifests assume: several stages, a slim
base pinned by tag, no compilers where the code runs, a fixed non-root UID (the manifests'
runAsUser), nothing fetched from a URL, no secret in the image, only the code in the context.
`make image` builds it where a Docker engine runs, and says so plainly where none does."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.deploy.manifests import APP_UID, ROOT

COMPILERS = re.compile(r"\b(gcc|g\+\+|clang|make|build-essential|cargo|rustc|[a-z0-9-]+-dev)\b")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def stages(dockerfile: str) -> list[Stage]:
    """The stages, with their instructions; continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile)
    args: dict[str, str] = {}
    result: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not result:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        elif keyword == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), words[0])
            result.append(Stage(base, words[2] if len(words) > 2 else None))
        else:
            result[-1].instructions.append((keyword, rest))
    return result


DOCKERFILE = (ROOT / "Dockerfile").read_text()
STAGES = stages(DOCKERFILE)
FINAL = STAGES[-1]


def test_the_image_is_built_in_stages() -> None:
    assert len(STAGES) >= 2
    copied = [rest for keyword, rest in FINAL.instructions if keyword == "COPY"]
    assert any(rest.startswith("--from=") for rest in copied)


def test_every_base_is_slim_and_pinned_by_tag() -> None:
    for stage in STAGES:
        assert ":" in stage.base, stage.base
        tag = stage.base.rsplit(":", 1)[1]
        assert tag != "latest"
        assert re.match(r"\d+\.\d+\.\d+-slim", tag), f"{stage.base}: pin a slim patch release"


def test_no_compiler_is_installed_where_the_code_runs() -> None:
    runs = " ".join(rest for keyword, rest in FINAL.instructions if keyword == "RUN")
    assert "apt-get install" not in runs
    assert not COMPILERS.search(runs), runs


def test_the_code_runs_as_the_fixed_non_root_uid_of_the_manifests() -> None:
    users = [rest for keyword, rest in FINAL.instructions if keyword == "USER"]
    assert users, "the final stage must name its USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) == APP_UID


def test_nothing_is_fetched_from_a_url_and_no_secret_is_baked_in() -> None:
    for stage in STAGES:
        for keyword, rest in stage.instructions:
            assert not (keyword == "ADD" and "://" in rest), rest
            if keyword in ("ENV", "ARG"):
                names = re.findall(r"(\w+)=", rest) or [rest.split()[0]]
                assert not any(re.search(r"PASSWORD|SECRET|TOKEN|KEY", n) for n in names), rest


def test_the_run_time_dependencies_are_the_locked_ones() -> None:
    build = STAGES[0]
    installs = " ".join(rest for keyword, rest in build.instructions if keyword == "RUN")
    assert "--constraint requirements.lock" in installs


def test_the_image_serves_every_command_of_the_manifests() -> None:
    entrypoint = [rest for keyword, rest in FINAL.instructions if keyword == "ENTRYPOINT"]
    assert entrypoint == ['["python", "-m"]']  # args: services serve|work|migrate NAME, gateway


def test_the_build_context_holds_only_the_code() -> None:
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"  # everything out first, then what the image needs back in
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "requirements.lock", "shared", "gateway", "services"}


def test_make_image_says_plainly_when_there_is_no_docker_engine(tmp_path: Path) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "image", f"DOCKER={shlex.quote(str(tmp_path / 'none'))}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "MAKEFLAGS": ""},
    )
    assert result.returncode != 0
    assert "the image needs a Docker engine" in result.stderr
