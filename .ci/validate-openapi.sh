#!/usr/bin/env bash
# Validates an OpenAPI 3.1 document with openapi-spec-validator (the
# reference validator for the OpenAPI meta-schemas), and optionally rows of
# data against the document's component schemas with openapi-schema-validator's
# OAS 3.1 dialect. The packages come from PyPI and are installed on first use,
# so CI needs nothing but python3 with pip.
#
#   bash .ci/validate-openapi.sh SPEC [ROWS]
#
# SPEC is a .json or .yaml OpenAPI document. ROWS, when given, is a JSON
# object mapping a schema name under components.schemas to a list of rows;
# each row gets one line, `ok NAME INDEX` or `invalid NAME INDEX: why`.
#
# Exit codes: 0 valid, 1 the spec or a row is invalid, 2 usage or set-up error.
set -euo pipefail

# Pinned so that every machine validates with the same rules.
SPEC_VALIDATOR_VERSION="0.9.0"

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: bash .ci/validate-openapi.sh SPEC [ROWS]" >&2
  exit 2
fi
spec="$1"
rows="${2:-}"

if ! command -v python3 >/dev/null 2>&1; then
  echo "error: python3 is not installed; run \`bash .ci/run\` on a machine with python3 and pip (apt-get install python3-pip)" >&2
  exit 2
fi

have_validators() {
  python3 -c 'import openapi_spec_validator, openapi_schema_validator, yaml' >/dev/null 2>&1
}

# Tests may run this script in parallel; one installs while the others wait.
if ! have_validators && command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/validate-openapi.install.lock"
  flock 9
fi

if ! have_validators; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "error: pip is not available for python3; run \`bash .ci/run\` on a machine with pip (apt-get install python3-pip)" >&2
    exit 2
  fi
  package="openapi-spec-validator==${SPEC_VALIDATOR_VERSION}"
  # A Debian system python refuses plain installs (PEP 668); a user install
  # that overrides the marker is the least intrusive fallback there.
  if ! python3 -m pip install --quiet --disable-pip-version-check "$package" >&2; then
    python3 -m pip install --quiet --disable-pip-version-check --user --break-system-packages "$package" >&2 || {
      echo "error: could not install $package from PyPI; run \`bash .ci/run\`" >&2
      exit 2
    }
  fi
  if ! have_validators; then
    echo "error: $package was installed but cannot be imported by python3" >&2
    exit 2
  fi
fi

exec 9>&-

exec python3 - "$spec" "$rows" <<'PYTHON'
import json
import sys

import yaml
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

spec_path, rows_path = sys.argv[1], sys.argv[2]

try:
    spec, _ = read_from_filename(spec_path)
except (OSError, yaml.YAMLError, ValueError) as error:
    print(f"error: cannot read {spec_path}: {error}", file=sys.stderr)
    sys.exit(2)

try:
    validate(spec)
except Exception as error:  # The validator raises its own hierarchy.
    print(f"invalid spec {spec_path}: {error}")
    sys.exit(1)
print(f"valid spec {spec_path} (OpenAPI {spec.get('openapi')})")

if not rows_path:
    sys.exit(0)

with open(rows_path, encoding="utf-8") as handle:
    rows = json.load(handle)

schemas = spec.get("components", {}).get("schemas", {})
failures = 0
for name in sorted(rows):
    if name not in schemas:
        print(f"invalid {name} -: no such schema under components.schemas")
        failures += 1
        continue
    # The reference is resolved against this wrapper, which carries the
    # document's components, so schemas that $ref each other still resolve.
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    validator = OAS31Validator(schema, format_checker=oas31_format_checker)
    for index, row in enumerate(rows[name]):
        errors = sorted(validator.iter_errors(row), key=lambda e: list(e.absolute_path))
        if errors:
            failures += 1
            reasons = "; ".join(
                f"{'/'.join(map(str, e.absolute_path)) or '<row>'}: {e.message}" for e in errors
            )
            print(f"invalid {name} {index}: {reasons}")
        else:
            print(f"ok {name} {index}")

sys.exit(1 if failures else 0)
PYTHON
