#!/usr/bin/python3
"""Learns k-bit hashes of the 1792-d embeddings: centre, project to k dims, ITQ rotation.

Method (Gong & Lazebnik, "Iterative Quantization", CVPR 2011), with one label-aware knob:
the k directions are the top eigenvectors of  C_total - lam * C_within, where C_within is
the covariance of the embeddings around their own photo's mean (the augmentation noise).
lam = 0 is plain PCA-ITQ. lam > 0 steers bits away from directions that a crop, a tilt or
a JPEG re-encode flips. lam is chosen per k by 3-fold cross-validation over training
*photos* (a fold's photos are unseen when it is scored), and kept at 0 unless a larger
value wins by more than MARGIN in mAP: the simple method is the default. The same
cross-validation also decides whether the ITQ rotation is applied at all ("none" keeps
the signs of the principal components, i.e. PCA hashing); on this data it often wins.

Inputs:  .cache/hashing/dataset/train.{f32,json} from tools/hashing/embed-dataset.ts
Outputs: models/hashing/itq-<k>.{json,bin} and models/hashing/manifest.json
Needs numpy only (Debian: apt-get install python3-numpy; run with /usr/bin/python3).
"""
import argparse
import datetime
import hashlib
import json
import os
import sys

import numpy as np

SCRIPT_VERSION = "1"
FORMAT = "metapixel-itq/1"
LAMBDAS = (0.0, 0.5, 1.0)
# "itq": learned rotation; "none": signs of the principal components themselves.
ROTATIONS = ("itq", "none")
MARGIN = 0.005
ITQ_ITERS = 50


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def covariances(x, groups):
    """Total and within-group covariance (float64, d x d)."""
    mean = x.mean(axis=0)
    xc = x - mean
    c_total = xc.T @ xc / len(x)
    w = x.copy()
    for g in np.unique(groups):
        idx = groups == g
        w[idx] -= x[idx].mean(axis=0)
    c_within = w.T @ w / len(x)
    return mean, c_total, c_within


def itq_rotation(v, rng):
    """Orthogonal k x k R minimising ||sign(VR) - VR||_F, from a random orthogonal start."""
    k = v.shape[1]
    r, _ = np.linalg.qr(rng.standard_normal((k, k)))
    for _ in range(ITQ_ITERS):
        b = np.where(v @ r >= 0, 1.0, -1.0)
        u, _, wt = np.linalg.svd(b.T @ v)
        r = (u @ wt).T
    return r


def basis(x, groups, lam):
    """(mean[d], eigenvectors[d, d] by decreasing eigenvalue of C_total - lam * C_within)."""
    x = x.astype(np.float64)
    mean, c_total, c_within = covariances(x, groups)
    vals, vecs = np.linalg.eigh(c_total - lam * c_within)
    return mean, vecs[:, np.argsort(vals)[::-1]]


def fit(x, base, k, seed, rotation="itq"):
    """Returns projection[d, k]; bit j of x is sign((x - mean) @ projection[:, j])."""
    mean, vecs = base
    w = vecs[:, :k]
    if rotation == "none":
        return w
    rot = itq_rotation((x.astype(np.float64) - mean) @ w, np.random.default_rng(seed))
    return w @ rot


def mean_ap(codes, groups, rng):
    """mAP of Hamming ranking, each row querying all others; ties broken at random."""
    s = codes.astype(np.float32) * 2 - 1
    dist = (s.shape[1] - s @ s.T) / 2 + rng.uniform(0, 0.5, (len(s), len(s)))
    np.fill_diagonal(dist, np.inf)
    aps = []
    for i in range(len(s)):
        order = np.argsort(dist[i])[:-1]
        rel = groups[order] == groups[i]
        hits = np.cumsum(rel)
        aps.append(float((hits[rel] / (np.flatnonzero(rel) + 1)).mean()))
    return float(np.mean(aps))


def folds(groups, seed):
    """Three boolean masks of held-out rows, splitting by photo."""
    perm = np.random.default_rng(seed).permutation(np.unique(groups))
    return [np.isin(groups, perm[f::3]) for f in range(3)]


def variant(lam, rotation):
    return f"{rotation}/lambda={lam}"


def cross_validate(x, groups, bits, seed):
    """{k: {variant: mAP}}; the eigendecomposition of each (fold, lam) is shared by all k."""
    scores = {k: {} for k in bits}
    for f, held in enumerate(folds(groups, seed)):
        for lam in LAMBDAS:
            base = basis(x[~held], groups[~held], lam)
            for k in bits:
                for rotation in ROTATIONS:
                    codes = ((x[held] - base[0]) @ fit(x[~held], base, k, seed, rotation)) > 0
                    ap = mean_ap(codes, groups[held], np.random.default_rng(seed + f))
                    scores[k].setdefault(variant(lam, rotation), []).append(ap)
    return {k: {v: float(np.mean(a)) for v, a in by.items()} for k, by in scores.items()}


def random_projection_cv(x, groups, k, seed):
    """The same score for sign random projections (no training), for the record."""
    proj = np.random.default_rng(seed).standard_normal((x.shape[1], k))
    return float(np.mean([mean_ap((x[held] @ proj) > 0, groups[held], np.random.default_rng(seed + f))
                          for f, held in enumerate(folds(groups, seed))]))


def write_model(out_dir, k, mean, proj, header):
    bin_name = f"itq-{k}.bin"
    blob = np.concatenate([mean.astype("<f4"), proj.T.astype("<f4").ravel()])
    blob.tofile(os.path.join(out_dir, bin_name))
    header = {"format": FORMAT, "bits": k, "dims": int(mean.shape[0]), "bin": bin_name,
              "layout": "float32 LE: mean[dims], then rows[bits][dims]; bit j = (x - mean) . rows[j] > 0",
              **header}
    with open(os.path.join(out_dir, f"itq-{k}.json"), "w") as f:
        json.dump(header, f, indent=1)
        f.write("\n")


def write_manifest(out_dir, bits):
    files = {}
    for k in bits:
        for name in (f"itq-{k}.json", f"itq-{k}.bin"):
            p = os.path.join(out_dir, name)
            files[name] = {"sha256": sha256_file(p), "bytes": os.path.getsize(p)}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump({"generated_by": "tools/hashing/train_itq.py", "files": files}, f, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=".cache/hashing/dataset")
    ap.add_argument("--out", default="models/hashing")
    ap.add_argument("--bits", default="64,128,256")
    ap.add_argument("--seed", type=int, default=20261126)
    args = ap.parse_args()
    with open(os.path.join(args.data, "train.json")) as f:
        meta = json.load(f)
    x = np.fromfile(os.path.join(args.data, "train.f32"), dtype="<f4").reshape(meta["count"], meta["dims"])
    groups = np.asarray(meta["groups"])
    # SOURCE_DATE_EPOCH keeps rebuilds byte-identical when wanted; otherwise today's date.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    day = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch else datetime.datetime.now(datetime.timezone.utc)
    bits = [int(b) for b in args.bits.split(",")]
    os.makedirs(args.out, exist_ok=True)
    cv_all = cross_validate(x, groups, bits, args.seed)
    bases = {}
    for k in bits:
        cv = cv_all[k]
        # Rotation or not: whichever cross-validates better (neither adds parameters).
        # The label-aware lam > 0 is an extra knob, taken only if it wins by MARGIN.
        default = max((variant(0.0, r) for r in ROTATIONS), key=lambda v: cv[v])
        best = max(cv, key=lambda v: cv[v])
        chosen = best if cv[best] > cv[default] + MARGIN else default
        rotation, lam = chosen.split("/lambda=")[0], float(chosen.split("/lambda=")[1])
        rp = random_projection_cv(x, groups, k, args.seed)
        print(f"k={k}: cv mAP {cv}, random projection {rp:.4f}; chose {chosen}", file=sys.stderr)
        if lam not in bases:
            bases[lam] = basis(x, groups, lam)
        proj = fit(x, bases[lam], k, args.seed, rotation)
        mean = bases[lam][0]
        name = ("PCA-ITQ" if rotation == "itq" else "PCA-sign (no rotation)") + ("" if lam == 0 else ", within-group-penalised PCA")
        write_model(args.out, k, mean, proj, {
            "method": {"name": name, "rotation": rotation, "lambda": lam,
                       "itq_iterations": ITQ_ITERS if rotation == "itq" else 0, "seed": args.seed,
                       "cv_map_by_variant": cv, "cv_map_random_projection": rp,
                       "cv": "3 folds over training photos, Hamming-ranking mAP among the held fold's images"},
            "training_set": {"samples": meta["count"], "photos": len(meta["photos"]),
                             "augmentations_per_photo": meta["perPhoto"], "augmentation_seed": meta["seed"],
                             "augmentation_recipe": meta["recipe"], "sources": meta["photos"],
                             "embedding_model": "mobilenetv2_140_embedding (models/manifest.json)",
                             "dataset_sha256": sha256_file(os.path.join(args.data, "train.f32"))},
            "trained_on": day.strftime("%Y-%m-%d"),
            "script": "tools/hashing/train_itq.py", "script_version": SCRIPT_VERSION,
            "numpy": np.__version__,
        })
    write_manifest(args.out, bits)


if __name__ == "__main__":
    main()
