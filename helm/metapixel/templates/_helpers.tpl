{{/* Chart name, truncated to 63 chars (DNS label). */}}
{{- define "metapixel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified app name. */}}
{{- define "metapixel.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "metapixel.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "metapixel.commonLabels" -}}
helm.sh/chart: {{ include "metapixel.chart" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "metapixel.name" . }}
{{- end -}}

{{- define "metapixel.labels" -}}
{{ include "metapixel.commonLabels" . }}
{{ include "metapixel.selectorLabels" . }}
{{- end -}}

{{- define "metapixel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "metapixel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "metapixel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "metapixel.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "metapixel.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{/*
The environment variable of each config.* value (the server's names, src/config/config.ts).
PORT and GRPC_PORT come from service.*; the secret settings from the Secret (auth.*,
mongodb.uri or existingSecret). test/deploy/helm-values.test.ts checks that every
variable the server reads is reachable from values.
*/}}
{{- define "metapixel.configEnv" -}}
host: METAPIXEL_HOST
dataDir: METAPIXEL_DATA_DIR
logLevel: METAPIXEL_LOG_LEVEL
maxRequestBytes: METAPIXEL_MAX_REQUEST_BYTES
maxSetsPerProduct: METAPIXEL_MAX_SETS_PER_PRODUCT
jobConcurrency: METAPIXEL_JOB_CONCURRENCY
jobLeaseMs: METAPIXEL_JOB_LEASE_MS
jobPollMs: METAPIXEL_JOB_POLL_MS
importConcurrency: METAPIXEL_IMPORT_CONCURRENCY
shutdownGraceMs: METAPIXEL_SHUTDOWN_GRACE_MS
maxImagesPerRequest: METAPIXEL_MAX_IMAGES_PER_REQUEST
maxImageBytes: METAPIXEL_MAX_IMAGE_BYTES
maxImagePixels: METAPIXEL_MAX_IMAGE_PIXELS
maxDecodedImageSide: METAPIXEL_MAX_DECODED_SIDE
minImageSide: METAPIXEL_MIN_IMAGE_SIDE
fetchTimeoutMs: METAPIXEL_FETCH_TIMEOUT_MS
fetchMaxRedirects: METAPIXEL_FETCH_MAX_REDIRECTS
urlAllowList: METAPIXEL_URL_ALLOWLIST
gcsDir: METAPIXEL_GCS_DIR
storageEmulatorHost: STORAGE_EMULATOR_HOST
gcsEndpoint: METAPIXEL_GCS_ENDPOINT
gcsKeyFile: METAPIXEL_GCS_KEY_FILE
defaultProject: METAPIXEL_DEFAULT_PROJECT
modelsDir: METAPIXEL_MODELS_DIR
onnxThreads: METAPIXEL_ONNX_THREADS
inferenceQueue: METAPIXEL_INFERENCE_QUEUE
inferenceConcurrency: METAPIXEL_INFERENCE_CONCURRENCY
inferenceWorkers: METAPIXEL_INFERENCE_WORKERS
detectMirror: METAPIXEL_DETECT_MIRROR
minObjectScore: METAPIXEL_MIN_OBJECT_SCORE
defaultMaxResults: METAPIXEL_DEFAULT_MAX_RESULTS
indexPollMs: METAPIXEL_INDEX_POLL_MS
httpHeadersTimeoutMs: METAPIXEL_HTTP_HEADERS_TIMEOUT_MS
httpRequestTimeoutMs: METAPIXEL_HTTP_REQUEST_TIMEOUT_MS
httpMaxConnections: METAPIXEL_HTTP_MAX_CONNECTIONS
httpKeepAliveTimeoutMs: METAPIXEL_HTTP_KEEP_ALIVE_TIMEOUT_MS
grpcMaxConcurrentStreams: METAPIXEL_GRPC_MAX_CONCURRENT_STREAMS
grpcIdleTimeoutMs: METAPIXEL_GRPC_IDLE_TIMEOUT_MS
maxFeaturesPerImage: METAPIXEL_MAX_FEATURES_PER_IMAGE
maxRegionsPerImage: METAPIXEL_MAX_REGIONS_PER_IMAGE
maxImagesInFlightPerProject: METAPIXEL_PROJECT_IMAGE_CONCURRENCY
corsOrigins: METAPIXEL_CORS_ORIGINS
metricsPerSet: METAPIXEL_METRICS_PER_SET
allowedHosts: METAPIXEL_ALLOWED_HOSTS
console: METAPIXEL_CONSOLE
consoleStaging: METAPIXEL_CONSOLE_STAGING
gcsBuckets: METAPIXEL_GCS_BUCKETS
indexSnapshotDir: METAPIXEL_INDEX_SNAPSHOT_DIR
indexSnapshotSeconds: METAPIXEL_INDEX_SNAPSHOT_SECONDS
indexChangeRetentionHours: METAPIXEL_INDEX_CHANGE_RETENTION_HOURS
indexShard: METAPIXEL_INDEX_SHARD
codeBits: METAPIXEL_CODE_BITS
rerankDims: METAPIXEL_RERANK_DIMS
rerankBits: METAPIXEL_RERANK_BITS
rerank4BitFrom: METAPIXEL_RERANK_4BIT_FROM
coarseListsFrom: METAPIXEL_COARSE_LISTS_FROM
coarseProbeShare: METAPIXEL_COARSE_PROBE_SHARE
{{- end -}}

{{/* A value as an environment string: whole numbers without exponent (YAML numbers reach
templates as float64, and 10485760 would print as 1.048576e+07). */}}
{{- define "metapixel.envValue" -}}
{{- if and (kindIs "float64" .) (eq (floor .) .) -}}{{ int64 . }}{{- else -}}{{ . }}{{- end -}}
{{- end -}}

{{/* Name of the Secret holding API keys, bearer tokens and the external MongoDB URI. */}}
{{- define "metapixel.secretName" -}}
{{- default (include "metapixel.fullname" .) .Values.existingSecret -}}
{{- end -}}

{{/* "true" when a MongoDB store is configured (external or bundled). */}}
{{- define "metapixel.usesMongo" -}}
{{- if has .Values.mongodb.mode (list "external" "bundled") -}}true{{- end -}}
{{- end -}}

{{/* Bundled MongoDB: names, labels and the URI the server gets. */}}
{{- define "metapixel.mongodb.fullname" -}}
{{- printf "%s-mongodb" (include "metapixel.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "metapixel.mongodb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "metapixel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: mongodb
{{- end -}}

{{- define "metapixel.mongodb.labels" -}}
{{ include "metapixel.commonLabels" . }}
{{ include "metapixel.mongodb.selectorLabels" . }}
{{- end -}}

{{- define "metapixel.mongodb.host" -}}
{{- printf "%s-0.%s-headless.%s.svc.%s:27017" (include "metapixel.mongodb.fullname" .) (include "metapixel.mongodb.fullname" .) .Release.Namespace .Values.clusterDomain -}}
{{- end -}}

{{- define "metapixel.mongodb.uri" -}}
{{- printf "mongodb://%s/%s?replicaSet=%s" (include "metapixel.mongodb.host" .) .Values.mongodb.bundled.database .Values.mongodb.bundled.replicaSetName -}}
{{- end -}}

{{/*
Checks that stop rendering on settings that cannot work. Included by the Deployment.
*/}}
{{- define "metapixel.validate" -}}
{{- $mode := .Values.mongodb.mode -}}
{{- if not (has $mode (list "none" "external" "bundled")) -}}
{{- fail (printf "mongodb.mode must be none, external or bundled (got %q)" $mode) -}}
{{- end -}}
{{- if eq $mode "none" -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- fail (printf "replicaCount is %d but the embedded SQLite store (mongodb.mode: none) supports exactly one replica: set mongodb.mode to external (or bundled for trials) to run several replicas" (int .Values.replicaCount)) -}}
{{- end -}}
{{- if .Values.autoscaling.enabled -}}
{{- fail "autoscaling.enabled needs MongoDB: the embedded SQLite store (mongodb.mode: none) supports exactly one replica" -}}
{{- end -}}
{{- end -}}
{{- if and (eq $mode "external") (not .Values.mongodb.uri) (not .Values.existingSecret) -}}
{{- fail "mongodb.mode external needs mongodb.uri or an existingSecret with a MONGODB_URI key" -}}
{{- end -}}
{{- if and .Values.mongodb.uri (ne $mode "external") -}}
{{- fail "mongodb.uri is set but mongodb.mode is not external" -}}
{{- end -}}
{{- $grace := .Values.config.shutdownGraceMs -}}
{{- if kindIs "invalid" $grace -}}{{- $grace = 25000 -}}{{- end -}}
{{- if ge (div (int64 $grace) 1000) (int64 .Values.terminationGracePeriodSeconds) -}}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed config.shutdownGraceMs (%v ms) or pods are killed mid-drain" .Values.terminationGracePeriodSeconds $grace) -}}
{{- end -}}
{{- if not (hasPrefix "/" (toString .Values.config.dataDir)) -}}
{{- fail (printf "config.dataDir must be an absolute path (the data volume is mounted there; got %q)" (toString .Values.config.dataDir)) -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" -}}
{{- end -}}
{{- end -}}
