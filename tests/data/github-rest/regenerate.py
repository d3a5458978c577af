"""Regenerate required-fields.json, the shapes the GitHub fake is checked against, from GitHub's REST
description.

    npm pack @octokit/openapi && tar xzf octokit-openapi-*.tgz
    python tests/data/github-rest/regenerate.py package/generated/api.github.com.json

For every route the fake serves (``ROUTES`` in tests/gitops/fake_github.py) it pins the schema of every
status the description documents, and the description's error schema for the statuses it leaves out.
A schema is pinned stripped to what an answer can be checked for: type, nullable, format, enum, its
properties and which of them are required, array items, and alternatives (``allOf`` merged into one object,
``anyOf`` and ``oneOf`` as ``anyOf``). Component schemas stay named (``{"$ref": "simple-user"}``) and are
pinned once each, with every component they reach. The multi-MB description itself is not committed: the
pin records its version and sha256.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

PIN = Path(__file__).with_name("required-fields.json")
USAGE = "tests/data/github-rest/regenerate.py"
SOURCE = "@octokit/openapi"
FILE = "generated/api.github.com.json"
# The statuses a route leaves out (a 401 for a bad token, a secondary rate limit's 429, a 502) answer
# GitHub's common error body, the one its description gives for "requires authentication".
UNDOCUMENTED = "requires_authentication"
KEPT = ("type", "nullable", "format", "enum")
Node = dict[str, Any]


class Unusable(Exception):
    """The file is not a description the pin can be made from."""


class Description:
    """The description's component schemas, pinned as routes reach them."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.schemas: dict[str, Node] = {}

    def component(self, ref: str) -> dict[str, Any]:
        """The object a local ``#/components/...`` reference names."""
        target: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        assert isinstance(target, dict), ref
        return target

    def node(self, schema: dict[str, Any]) -> Node:
        """The pinned form of one schema."""
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in self.schemas:
                self.schemas[name] = {}  # a placeholder first: a schema may reach itself
                self.schemas[name] = self.node(self.component(schema["$ref"]))
            return {"$ref": name}
        out: Node = {k: schema[k] for k in KEPT if k in schema}
        if "allOf" in schema:
            parts = [self.resolved(self.node(part)) for part in schema["allOf"]]
            for part in parts:
                out = merge(out, part)
            # null satisfies all the parts only if each allows it (or the schema itself says so)
            out.pop("nullable", None)
            if schema.get("nullable") or all(part.get("nullable") for part in parts):
                out["nullable"] = True
        alternatives = schema.get("anyOf", []) + schema.get("oneOf", [])
        if alternatives:
            out["anyOf"] = [self.node(alt) for alt in alternatives]
        if "properties" in schema or "required" in schema:
            out = merge(out, self.object(schema))
        if "items" in schema:
            out["items"] = self.node(schema["items"])
        if isinstance(schema.get("additionalProperties"), dict):
            out["additionalProperties"] = self.node(schema["additionalProperties"])
        return out

    def object(self, schema: dict[str, Any]) -> Node:
        properties = schema.get("properties", {})
        out: Node = {"type": "object", "properties": {k: self.node(v) for k, v in properties.items()}}
        out["required"] = sorted(schema.get("required", []))
        return out

    def resolved(self, node: Node) -> Node:
        return self.schemas[node["$ref"]] if "$ref" in node else node

    def response(self, answer: dict[str, Any]) -> Node | None:
        """The pinned body schema of one documented answer (None: no JSON body)."""
        if "$ref" in answer:
            answer = self.component(answer["$ref"])
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        return None if schema is None else self.node(schema)


def merge(left: Node, right: Node) -> Node:
    """Two schemas an answer must both satisfy (``allOf``), as one."""
    out = left | {k: v for k, v in right.items() if k not in ("properties", "required")}
    if "properties" in left or "properties" in right:
        out["properties"] = left.get("properties", {}) | right.get("properties", {})
        out["required"] = sorted(set(left.get("required", [])) | set(right.get("required", [])))
    return out


def served_routes() -> list[tuple[str, str]]:
    """(method, template) of every route the fake serves, from the fake itself."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from tests.gitops.fake_github import ROUTES

    return [(route.method, route.path) for route in ROUTES]


def pin(document: dict[str, Any], sha256: str, served: list[tuple[str, str]]) -> dict[str, Any]:
    """The pin: each served route's answers by status, and the schemas they reach."""
    description = Description(document)
    routes: dict[str, dict[str, Node | None]] = {}
    for method, path in served:
        operation = document["paths"].get(path, {}).get(method.lower())
        if operation is None:
            raise Unusable(f"{method} {path}, a route the fake serves, is not described")
        answers = operation["responses"].items()
        routes[f"{method} {path}"] = {status: description.response(answer) for status, answer in answers}
    undocumented = description.response(document["components"]["responses"][UNDOCUMENTED])
    return {
        "_about": (
            "The shapes the GitHub fake (tests/gitops/fake_github.py) answers in, from GitHub's REST "
            f"description as the npm package {SOURCE} ships it ({FILE}): for each route the fake serves, "
            "the schema of each documented status; `undocumented_error` for a status the route leaves out "
            f"(the description's `{UNDOCUMENTED}` answer); every component schema they reach, reduced to "
            "type, nullable, format, enum, properties, required, items and anyOf. Written by regenerate.py "
            "in this folder; do not edit."
        ),
        "source": {"package": SOURCE, "version": document["info"]["version"], "file": FILE, "sha256": sha256},
        "routes": routes,
        "undocumented_error": undocumented,
        "schemas": dict(sorted(description.schemas.items())),
    }


def load(source: Path) -> tuple[bytes, dict[str, Any]]:
    """The description's bytes (for the checksum) and its document."""
    try:
        raw = source.read_bytes()
        document = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise Unusable(str(exc)) from exc
    if not isinstance(document, dict) or not {"paths", "components", "info"} <= document.keys():
        raise Unusable("not an OpenAPI description (it lacks paths, components or info)")
    return raw, document


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: python {USAGE} path/to/api.github.com.json", file=sys.stderr)
        return 2
    source = Path(argv[0])
    try:
        raw, document = load(source)
        pinned = pin(document, hashlib.sha256(raw).hexdigest(), served_routes())
    except Unusable as exc:
        print(f"regenerate: {source}: {exc}", file=sys.stderr)
        return 2
    except (KeyError, TypeError, AttributeError) as exc:
        print(f"regenerate: {source}: not GitHub's REST description (no {exc})", file=sys.stderr)
        return 2
    text = json.dumps(pinned, indent=1, ensure_ascii=False)
    PIN.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {PIN.name}: {len(text):,} characters, {document['info']['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
