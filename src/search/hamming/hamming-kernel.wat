;; Hamming kernels for LinearScanIndex and MultiIndexHashing (see scan-kernels.ts and
;; mih.ts). Source of wasm-kernel-bytes.ts; rebuild with `npm run build:wasm`.
;;
;; Linear memory of an instance (addresses fixed in scan-kernels.ts):
;;   0..31   the query (W little-endian i64 words)
;;   32..43  counters written by probeW: entries fetched, buckets probed, 1 if it stopped
;;           because `out` was full (call again with resume = 1)
;;   64..    hist: 257 i32 counts of emitted distances, for the scan's own threshold
;;   2048..  out: (i32 index, i32 distance) pairs, then (probeW) a batch of bucket ranges
;;   then codes (scan) or a table's dense bucket offsets and its codes (MIH).
;;
;; scanW(codes, n, q, thr, out) -> count: walks n codes of W*64 bits from byte address
;; `codes` and writes the pair (index in 0..n-1, d) for every code with d <= thr, where thr
;; starts at the argument and, after begin(k, 1), tightens inside the kernel: hist counts
;; the emitted distances, so once k codes are at or under some distance t nothing beyond t
;; can enter the top k and thr drops to t (what scan.c's scalar loop does with its top-10
;; array). The loop is unrolled G codes deep with one compare and branch per code and no
;; call in it: a hit leaves the unrolled body through nested blocks that say which code it
;; was, is emitted, and the scan resumes after it (on V8 12 one branch per code measured
;; faster than one per group of OR-ed sign tests: 3.3-4.0 k vs 2.4-3.0 k queries/s at
;; 1 M x 64 bits, and a call inside the loop cost about a quarter). thr() returns the
;; threshold reached.
;; With a filter the caller passes begin(k, 0): an emitted code may be filtered out, so
;; only the caller's top k may set the threshold.
;;
;; probeW(offs, codes, key, len, tmask, s, q, thr, out, cap, resume, ranges) -> count: Multi-Index
;; Hashing, one table, radius s: every len-bit mask of popcount s (Gosper's hack), bucket
;; (key ^ mask) & tmask of the dense offsets at `offs`, every entry of it verified against
;; the query in place (codes are stored in table order, so a bucket is contiguous) and
;; emitted as (entry index, d) when d <= thr. At most `cap` pairs: when out is full it
;; saves where it was and sets the flag at 40; resume = 1 continues from there.
(module
  (memory (export "memory") 1)
  (global $thr (mut i32) (i32.const 0))
  (global $k (mut i32) (i32.const 0))
  (global $tighten (mut i32) (i32.const 0))
  (global $le (mut i32) (i32.const 0))
  (global $rmask (mut i64) (i64.const 0))
  (global $rentry (mut i32) (i32.const 0))
  (global $rr (mut i32) (i32.const 0))

  ;; Starts a search: k wanted, tighten = 1 lets the scan lower its own threshold.
  (func (export "begin") (param $k i32) (param $tighten i32)
    (local $i i32)
    (global.set $k (local.get $k))
    (global.set $tighten (local.get $tighten))
    (global.set $le (i32.const 0))
    (local.set $i (i32.const 64))
    (block $done (loop $zero
      (br_if $done (i32.ge_u (local.get $i) (i32.const 1092)))
      (i32.store (local.get $i) (i32.const 0))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $zero))))

  (func (export "thr") (result i32) (global.get $thr))

  ;; Appends (idx, d) when d <= thr; with tightening, counts d and lowers thr while the
  ;; codes at or under thr - 1 already number k. Returns the new count.
  (func $emit (param $out i32) (param $cnt i32) (param $idx i32) (param $d i32) (result i32)
    (local $at i32) (local $h i32)
    (if (i32.gt_u (local.get $d) (global.get $thr)) (then (return (local.get $cnt))))
    (local.set $at (i32.add (local.get $out) (i32.shl (local.get $cnt) (i32.const 3))))
    (i32.store offset=0 (local.get $at) (local.get $idx))
    (i32.store offset=4 (local.get $at) (local.get $d))
    (if (global.get $tighten)
      (then
        (local.set $at (i32.add (i32.const 64) (i32.shl (local.get $d) (i32.const 2))))
        (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
        (global.set $le (i32.add (global.get $le) (i32.const 1)))
        (block $stop (loop $lower
          (local.set $h (i32.load (i32.add (i32.const 64) (i32.shl (global.get $thr) (i32.const 2)))))
          (br_if $stop (i32.lt_s (i32.sub (global.get $le) (local.get $h)) (global.get $k)))
          (global.set $le (i32.sub (global.get $le) (local.get $h)))
          (global.set $thr (i32.sub (global.get $thr) (i32.const 1)))
          (br $lower)))))
    (i32.add (local.get $cnt) (i32.const 1)))

  ;; 64-bit codes, unrolled 8 deep.
  (func (export "scan1") (param $codes i32) (param $n i32) (param $q i32) (param $thr i32)
    (param $out i32) (result i32)
    (local $q0 i64) (local $t i64)
    (local $p i32) (local $endg i32) (local $end i32) (local $cnt i32)
    (local $d i64) (local $h i64)
    (global.set $thr (local.get $thr))
    (local.set $q0 (i64.load offset=0 (local.get $q)))
    (local.set $t (i64.extend_i32_u (global.get $thr)))
    (local.set $p (local.get $codes))
    (local.set $end (i32.add (local.get $codes) (i32.shl (local.get $n) (i32.const 3))))
    (block $exit
      (loop $group
        ;; 8 codes left at least: the unrolled body, which leaves it only on a hit.
        (if (i32.ge_u (i32.sub (local.get $end) (local.get $p)) (i32.const 64))
          (then
            (block $handle
              (block $h7
              (block $h6
              (block $h5
              (block $h4
              (block $h3
              (block $h2
              (block $h1
              (block $h0
                (br_if $h0 (i64.le_u (local.tee $d (i64.popcnt (i64.xor (i64.load offset=0 (local.get $p)) (local.get $q0)))) (local.get $t)))
                (br_if $h1 (i64.le_u (local.tee $d (i64.popcnt (i64.xor (i64.load offset=8 (local.get $p)) (local.get $q0)))) (local.get $t)))
                (br_if $h2 (i64.le_u (local.tee $d (i64.popcnt (i64.xor (i64.load offset=16 (local.get $p)) (local.get $q0)))) (local.get $t)))
                (br_if $h3 (i64.le_u (local.tee $d (i64.popcnt (i64.xor (i64.load offset=24 (local.get $p)) (local.get $q0)))) (local.get $t)))
                (br_if $h4 (i64.le_u (local.tee $d (i64.popcnt (i64.xor (i64.load offset=32 (local.get $p)) (local.get $q0)))) (local.get $t)))
                (br_if $h5 (i64.le_u (local.tee $d (i64.popcnt (i64.xor (i64.load offset=40 (local.get $p)) (local.get $q0)))) (local.get $t)))
                (br_if $h6 (i64.le_u (local.tee $d (i64.popcnt (i64.xor (i64.load offset=48 (local.get $p)) (local.get $q0)))) (local.get $t)))
                (br_if $h7 (i64.le_u (local.tee $d (i64.popcnt (i64.xor (i64.load offset=56 (local.get $p)) (local.get $q0)))) (local.get $t)))
                (local.set $p (i32.add (local.get $p) (i32.const 64)))
                (br $group))
              (local.set $p (i32.add (local.get $p) (i32.const 0)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 8)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 24)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 32)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 40)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 48)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 56)))
              (br $handle)
            )
            ;; A hit: code at p has d <= t. Emit it, then go on after it.
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt)
              (i32.shr_u (i32.sub (local.get $p) (local.get $codes)) (i32.const 3))
              (i32.wrap_i64 (local.get $d))))
            (local.set $t (i64.extend_i32_u (global.get $thr)))
            (local.set $p (i32.add (local.get $p) (i32.const 8)))
            (br $group)))
        ;; Fewer than 8 codes left: one at a time.
        (br_if $exit (i32.ge_u (local.get $p) (local.get $end)))
        (if (i64.le_u (local.tee $d (i64.popcnt (i64.xor (i64.load offset=0 (local.get $p)) (local.get $q0)))) (local.get $t))
          (then
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt)
              (i32.shr_u (i32.sub (local.get $p) (local.get $codes)) (i32.const 3))
              (i32.wrap_i64 (local.get $d))))
            (local.set $t (i64.extend_i32_u (global.get $thr)))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $group)))
    (local.get $cnt))

  ;; 128-bit codes, unrolled 8 deep.
  (func (export "scan2") (param $codes i32) (param $n i32) (param $q i32) (param $thr i32)
    (param $out i32) (result i32)
    (local $q0 i64) (local $q1 i64) (local $t i64)
    (local $p i32) (local $endg i32) (local $end i32) (local $cnt i32)
    (local $d i64) (local $h i64)
    (global.set $thr (local.get $thr))
    (local.set $q0 (i64.load offset=0 (local.get $q)))
    (local.set $q1 (i64.load offset=8 (local.get $q)))
    (local.set $t (i64.extend_i32_u (global.get $thr)))
    (local.set $p (local.get $codes))
    (local.set $end (i32.add (local.get $codes) (i32.shl (local.get $n) (i32.const 4))))
    (block $exit
      (loop $group
        ;; 8 codes left at least: the unrolled body, which leaves it only on a hit.
        (if (i32.ge_u (i32.sub (local.get $end) (local.get $p)) (i32.const 128))
          (then
            (block $handle
              (block $h7
              (block $h6
              (block $h5
              (block $h4
              (block $h3
              (block $h2
              (block $h1
              (block $h0
                (br_if $h0 (i64.le_u (local.tee $d (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=8 (local.get $p)) (local.get $q1))))) (local.get $t)))
                (br_if $h1 (i64.le_u (local.tee $d (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=24 (local.get $p)) (local.get $q1))))) (local.get $t)))
                (br_if $h2 (i64.le_u (local.tee $d (i64.add (i64.popcnt (i64.xor (i64.load offset=32 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=40 (local.get $p)) (local.get $q1))))) (local.get $t)))
                (br_if $h3 (i64.le_u (local.tee $d (i64.add (i64.popcnt (i64.xor (i64.load offset=48 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=56 (local.get $p)) (local.get $q1))))) (local.get $t)))
                (br_if $h4 (i64.le_u (local.tee $d (i64.add (i64.popcnt (i64.xor (i64.load offset=64 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=72 (local.get $p)) (local.get $q1))))) (local.get $t)))
                (br_if $h5 (i64.le_u (local.tee $d (i64.add (i64.popcnt (i64.xor (i64.load offset=80 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=88 (local.get $p)) (local.get $q1))))) (local.get $t)))
                (br_if $h6 (i64.le_u (local.tee $d (i64.add (i64.popcnt (i64.xor (i64.load offset=96 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=104 (local.get $p)) (local.get $q1))))) (local.get $t)))
                (br_if $h7 (i64.le_u (local.tee $d (i64.add (i64.popcnt (i64.xor (i64.load offset=112 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=120 (local.get $p)) (local.get $q1))))) (local.get $t)))
                (local.set $p (i32.add (local.get $p) (i32.const 128)))
                (br $group))
              (local.set $p (i32.add (local.get $p) (i32.const 0)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 32)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 48)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 64)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 80)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 96)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 112)))
              (br $handle)
            )
            ;; A hit: code at p has d <= t. Emit it, then go on after it.
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt)
              (i32.shr_u (i32.sub (local.get $p) (local.get $codes)) (i32.const 4))
              (i32.wrap_i64 (local.get $d))))
            (local.set $t (i64.extend_i32_u (global.get $thr)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (br $group)))
        ;; Fewer than 8 codes left: one at a time.
        (br_if $exit (i32.ge_u (local.get $p) (local.get $end)))
        (if (i64.le_u (local.tee $d (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=8 (local.get $p)) (local.get $q1))))) (local.get $t))
          (then
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt)
              (i32.shr_u (i32.sub (local.get $p) (local.get $codes)) (i32.const 4))
              (i32.wrap_i64 (local.get $d))))
            (local.set $t (i64.extend_i32_u (global.get $thr)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $group)))
    (local.get $cnt))

  ;; 256-bit codes, unrolled 4 deep, the whole distance before the one branch. Testing the
  ;; first 128 bits alone first (skipping the rest once they exceed thr) was 8-12 % slower
  ;; at 1 M codes and never faster at 16 k-128 k (2026-12-06, A/B in one process pinned to
  ;; one CPU): the scan is bound by memory bandwidth, so skipped popcounts saved nothing,
  ;; and the second branch mispredicted while the threshold fell.
  (func (export "scan4") (param $codes i32) (param $n i32) (param $q i32) (param $thr i32)
    (param $out i32) (result i32)
    (local $q0 i64) (local $q1 i64) (local $q2 i64) (local $q3 i64) (local $t i64)
    (local $p i32) (local $endg i32) (local $end i32) (local $cnt i32)
    (local $d i64)
    (global.set $thr (local.get $thr))
    (local.set $q0 (i64.load offset=0 (local.get $q)))
    (local.set $q1 (i64.load offset=8 (local.get $q)))
    (local.set $q2 (i64.load offset=16 (local.get $q)))
    (local.set $q3 (i64.load offset=24 (local.get $q)))
    (local.set $t (i64.extend_i32_u (global.get $thr)))
    (local.set $p (local.get $codes))
    (local.set $end (i32.add (local.get $codes) (i32.shl (local.get $n) (i32.const 5))))
    (block $exit
      (loop $group
        ;; 4 codes left at least: the unrolled body, which leaves it only on a hit.
        (if (i32.ge_u (i32.sub (local.get $end) (local.get $p)) (i32.const 128))
          (then
            (block $handle
              (block $h3
              (block $h2
              (block $h1
              (block $h0
                (br_if $h0 (i64.le_u (local.tee $d (i64.add (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=8 (local.get $p)) (local.get $q1)))) (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $p)) (local.get $q2))) (i64.popcnt (i64.xor (i64.load offset=24 (local.get $p)) (local.get $q3)))))) (local.get $t)))
                (br_if $h1 (i64.le_u (local.tee $d (i64.add (i64.add (i64.popcnt (i64.xor (i64.load offset=32 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=40 (local.get $p)) (local.get $q1)))) (i64.add (i64.popcnt (i64.xor (i64.load offset=48 (local.get $p)) (local.get $q2))) (i64.popcnt (i64.xor (i64.load offset=56 (local.get $p)) (local.get $q3)))))) (local.get $t)))
                (br_if $h2 (i64.le_u (local.tee $d (i64.add (i64.add (i64.popcnt (i64.xor (i64.load offset=64 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=72 (local.get $p)) (local.get $q1)))) (i64.add (i64.popcnt (i64.xor (i64.load offset=80 (local.get $p)) (local.get $q2))) (i64.popcnt (i64.xor (i64.load offset=88 (local.get $p)) (local.get $q3)))))) (local.get $t)))
                (br_if $h3 (i64.le_u (local.tee $d (i64.add (i64.add (i64.popcnt (i64.xor (i64.load offset=96 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=104 (local.get $p)) (local.get $q1)))) (i64.add (i64.popcnt (i64.xor (i64.load offset=112 (local.get $p)) (local.get $q2))) (i64.popcnt (i64.xor (i64.load offset=120 (local.get $p)) (local.get $q3)))))) (local.get $t)))
                (local.set $p (i32.add (local.get $p) (i32.const 128)))
                (br $group))
              (local.set $p (i32.add (local.get $p) (i32.const 0)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 32)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 64)))
              (br $handle))
              (local.set $p (i32.add (local.get $p) (i32.const 96)))
              (br $handle)
            )
            ;; A hit: code at p has d <= t. Emit it, then go on after it.
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt)
              (i32.shr_u (i32.sub (local.get $p) (local.get $codes)) (i32.const 5))
              (i32.wrap_i64 (local.get $d))))
            (local.set $t (i64.extend_i32_u (global.get $thr)))
            (local.set $p (i32.add (local.get $p) (i32.const 32)))
            (br $group)))
        ;; Fewer than 4 codes left: one at a time.
        (br_if $exit (i32.ge_u (local.get $p) (local.get $end)))
        (if (i64.le_u (local.tee $d (i64.add (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=8 (local.get $p)) (local.get $q1)))) (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $p)) (local.get $q2))) (i64.popcnt (i64.xor (i64.load offset=24 (local.get $p)) (local.get $q3)))))) (local.get $t))
          (then
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt)
              (i32.shr_u (i32.sub (local.get $p) (local.get $codes)) (i32.const 5))
              (i32.wrap_i64 (local.get $d))))
            (local.set $t (i64.extend_i32_u (global.get $thr)))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $group)))
    (local.get $cnt))

  ;; Multi-Index Hashing probe of one table at radius s, 64-bit codes. Masks are
  ;; taken 2048 at a time: pass 1 looks up their buckets (independent loads the CPU can
  ;; overlap) and keeps the non-empty (from, to) ranges at `ranges`; pass 2 verifies the
  ;; entries of those ranges. A resume restarts the saved batch's pass 1 (same ranges,
  ;; counters not counted again) and continues pass 2 at the saved range and entry.
  (func (export "probe1") (param $offs i32) (param $codes i32) (param $key i32) (param $len i32)
    (param $tmask i32) (param $s i32) (param $q i32) (param $thr i32) (param $out i32) (param $cap i32)
    (param $resume i32) (param $ranges i32) (result i32)
    (local $q0 i64) (local $t i64) (local $mask i64) (local $lim i64) (local $r i64) (local $bstart i64)
    (local $v i32) (local $e i32) (local $to i32) (local $from i32) (local $cnt i32) (local $entries i32)
    (local $buckets i32) (local $count i32) (local $i i32) (local $nr i32) (local $ri i32) (local $r0 i32)
    (local $e0 i32) (local $at i32) (local $d i64)
    (local.set $q0 (i64.load offset=0 (local.get $q)))
    (local.set $t (i64.extend_i32_u (local.get $thr)))
    (local.set $lim (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $len))))
    (local.set $count (i32.const 1))
    (local.set $e0 (i32.const -1))
    (if (local.get $resume)
      (then
        (local.set $mask (global.get $rmask))
        (local.set $r0 (global.get $rr))
        (local.set $e0 (global.get $rentry))
        (local.set $count (i32.const 0)))
      (else (local.set $mask (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $s))) (i64.const 1)))))
    (block $finished
      (loop $batch
        (br_if $finished (i64.ge_u (local.get $mask) (local.get $lim)))
        (local.set $bstart (local.get $mask))
        (local.set $nr (i32.const 0))
        (local.set $i (i32.const 0))
        ;; Pass 1: the buckets of up to 2048 masks.
        (block $p1done
          (loop $p1
            (br_if $p1done (i32.ge_u (local.get $i) (i32.const 2048)))
            (br_if $p1done (i64.ge_u (local.get $mask) (local.get $lim)))
            (local.set $v (i32.and (i32.xor (local.get $key) (i32.wrap_i64 (local.get $mask))) (local.get $tmask)))
            (local.set $at (i32.add (local.get $offs) (i32.shl (local.get $v) (i32.const 2))))
            (local.set $from (i32.load (local.get $at)))
            (local.set $to (i32.load offset=4 (local.get $at)))
            (local.set $entries (i32.add (local.get $entries) (i32.mul (local.get $count) (i32.sub (local.get $to) (local.get $from)))))
            (i32.store offset=0 (i32.add (local.get $ranges) (i32.shl (local.get $nr) (i32.const 3))) (local.get $from))
            (i32.store offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $nr) (i32.const 3))) (local.get $to))
            (local.set $nr (i32.add (local.get $nr) (i32.ne (local.get $from) (local.get $to))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (if (i64.eqz (local.get $mask))
              (then (local.set $mask (local.get $lim)))
              (else
                ;; Gosper's hack: the next larger value with the same popcount.
                (local.set $r (i64.add (local.get $mask) (i64.and (local.get $mask) (i64.sub (i64.const 0) (local.get $mask)))))
                (local.set $mask (i64.or (local.get $r)
                  (i64.shr_u (i64.shr_u (i64.xor (local.get $r) (local.get $mask)) (i64.const 2)) (i64.ctz (local.get $mask)))))))
            (br $p1)))
        (local.set $buckets (i32.add (local.get $buckets) (i32.mul (local.get $count) (local.get $i))))
        (local.set $count (i32.const 1))
        ;; Pass 2: verify the entries of the non-empty buckets.
        (local.set $ri (local.get $r0))
        (block $p2done
          (loop $p2
            (br_if $p2done (i32.ge_u (local.get $ri) (local.get $nr)))
            (local.set $at (i32.add (local.get $ranges) (i32.shl (local.get $ri) (i32.const 3))))
            (local.set $e (i32.load offset=0 (local.get $at)))
            (local.set $to (i32.load offset=4 (local.get $at)))
            (if (i32.ge_s (local.get $e0) (i32.const 0)) (then (local.set $e (local.get $e0)) (local.set $e0 (i32.const -1))))
            (local.set $at (i32.add (local.get $codes) (i32.shl (local.get $e) (i32.const 3))))
            (block $rangedone
              (loop $entry
                (br_if $rangedone (i32.ge_u (local.get $e) (local.get $to)))
                (if (i64.le_u (local.tee $d (i64.popcnt (i64.xor (i64.load offset=0 (local.get $at)) (local.get $q0)))) (local.get $t))
                  (then
                    (if (i32.eq (local.get $cnt) (local.get $cap))
                      (then
                        (global.set $rmask (local.get $bstart))
                        (global.set $rr (local.get $ri))
                        (global.set $rentry (local.get $e))
                        (i32.store (i32.const 32) (local.get $entries))
                        (i32.store (i32.const 36) (local.get $buckets))
                        (i32.store (i32.const 40) (i32.const 1))
                        (return (local.get $cnt))))
                    (i32.store offset=0 (i32.add (local.get $out) (i32.shl (local.get $cnt) (i32.const 3))) (local.get $e))
                    (i32.store offset=4 (i32.add (local.get $out) (i32.shl (local.get $cnt) (i32.const 3))) (i32.wrap_i64 (local.get $d)))
                    (local.set $cnt (i32.add (local.get $cnt) (i32.const 1)))))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (local.set $at (i32.add (local.get $at) (i32.const 8)))
                (br $entry)))
            (local.set $ri (i32.add (local.get $ri) (i32.const 1)))
            (br $p2)))
        (local.set $r0 (i32.const 0))
        (br $batch)))
    (i32.store (i32.const 32) (local.get $entries))
    (i32.store (i32.const 36) (local.get $buckets))
    (i32.store (i32.const 40) (i32.const 0))
    (local.get $cnt))

  ;; Multi-Index Hashing probe of one table at radius s, 128-bit codes. Masks are
  ;; taken 2048 at a time: pass 1 looks up their buckets (independent loads the CPU can
  ;; overlap) and keeps the non-empty (from, to) ranges at `ranges`; pass 2 verifies the
  ;; entries of those ranges. A resume restarts the saved batch's pass 1 (same ranges,
  ;; counters not counted again) and continues pass 2 at the saved range and entry.
  (func (export "probe2") (param $offs i32) (param $codes i32) (param $key i32) (param $len i32)
    (param $tmask i32) (param $s i32) (param $q i32) (param $thr i32) (param $out i32) (param $cap i32)
    (param $resume i32) (param $ranges i32) (result i32)
    (local $q0 i64) (local $q1 i64) (local $t i64) (local $mask i64) (local $lim i64) (local $r i64) (local $bstart i64)
    (local $v i32) (local $e i32) (local $to i32) (local $from i32) (local $cnt i32) (local $entries i32)
    (local $buckets i32) (local $count i32) (local $i i32) (local $nr i32) (local $ri i32) (local $r0 i32)
    (local $e0 i32) (local $at i32) (local $d i64)
    (local.set $q0 (i64.load offset=0 (local.get $q)))
    (local.set $q1 (i64.load offset=8 (local.get $q)))
    (local.set $t (i64.extend_i32_u (local.get $thr)))
    (local.set $lim (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $len))))
    (local.set $count (i32.const 1))
    (local.set $e0 (i32.const -1))
    (if (local.get $resume)
      (then
        (local.set $mask (global.get $rmask))
        (local.set $r0 (global.get $rr))
        (local.set $e0 (global.get $rentry))
        (local.set $count (i32.const 0)))
      (else (local.set $mask (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $s))) (i64.const 1)))))
    (block $finished
      (loop $batch
        (br_if $finished (i64.ge_u (local.get $mask) (local.get $lim)))
        (local.set $bstart (local.get $mask))
        (local.set $nr (i32.const 0))
        (local.set $i (i32.const 0))
        ;; Pass 1: the buckets of up to 2048 masks.
        (block $p1done
          (loop $p1
            (br_if $p1done (i32.ge_u (local.get $i) (i32.const 2048)))
            (br_if $p1done (i64.ge_u (local.get $mask) (local.get $lim)))
            (local.set $v (i32.and (i32.xor (local.get $key) (i32.wrap_i64 (local.get $mask))) (local.get $tmask)))
            (local.set $at (i32.add (local.get $offs) (i32.shl (local.get $v) (i32.const 2))))
            (local.set $from (i32.load (local.get $at)))
            (local.set $to (i32.load offset=4 (local.get $at)))
            (local.set $entries (i32.add (local.get $entries) (i32.mul (local.get $count) (i32.sub (local.get $to) (local.get $from)))))
            (i32.store offset=0 (i32.add (local.get $ranges) (i32.shl (local.get $nr) (i32.const 3))) (local.get $from))
            (i32.store offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $nr) (i32.const 3))) (local.get $to))
            (local.set $nr (i32.add (local.get $nr) (i32.ne (local.get $from) (local.get $to))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (if (i64.eqz (local.get $mask))
              (then (local.set $mask (local.get $lim)))
              (else
                ;; Gosper's hack: the next larger value with the same popcount.
                (local.set $r (i64.add (local.get $mask) (i64.and (local.get $mask) (i64.sub (i64.const 0) (local.get $mask)))))
                (local.set $mask (i64.or (local.get $r)
                  (i64.shr_u (i64.shr_u (i64.xor (local.get $r) (local.get $mask)) (i64.const 2)) (i64.ctz (local.get $mask)))))))
            (br $p1)))
        (local.set $buckets (i32.add (local.get $buckets) (i32.mul (local.get $count) (local.get $i))))
        (local.set $count (i32.const 1))
        ;; Pass 2: verify the entries of the non-empty buckets.
        (local.set $ri (local.get $r0))
        (block $p2done
          (loop $p2
            (br_if $p2done (i32.ge_u (local.get $ri) (local.get $nr)))
            (local.set $at (i32.add (local.get $ranges) (i32.shl (local.get $ri) (i32.const 3))))
            (local.set $e (i32.load offset=0 (local.get $at)))
            (local.set $to (i32.load offset=4 (local.get $at)))
            (if (i32.ge_s (local.get $e0) (i32.const 0)) (then (local.set $e (local.get $e0)) (local.set $e0 (i32.const -1))))
            (local.set $at (i32.add (local.get $codes) (i32.shl (local.get $e) (i32.const 4))))
            (block $rangedone
              (loop $entry
                (br_if $rangedone (i32.ge_u (local.get $e) (local.get $to)))
                (if (i64.le_u (local.tee $d (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $at)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=8 (local.get $at)) (local.get $q1))))) (local.get $t))
                  (then
                    (if (i32.eq (local.get $cnt) (local.get $cap))
                      (then
                        (global.set $rmask (local.get $bstart))
                        (global.set $rr (local.get $ri))
                        (global.set $rentry (local.get $e))
                        (i32.store (i32.const 32) (local.get $entries))
                        (i32.store (i32.const 36) (local.get $buckets))
                        (i32.store (i32.const 40) (i32.const 1))
                        (return (local.get $cnt))))
                    (i32.store offset=0 (i32.add (local.get $out) (i32.shl (local.get $cnt) (i32.const 3))) (local.get $e))
                    (i32.store offset=4 (i32.add (local.get $out) (i32.shl (local.get $cnt) (i32.const 3))) (i32.wrap_i64 (local.get $d)))
                    (local.set $cnt (i32.add (local.get $cnt) (i32.const 1)))))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (local.set $at (i32.add (local.get $at) (i32.const 16)))
                (br $entry)))
            (local.set $ri (i32.add (local.get $ri) (i32.const 1)))
            (br $p2)))
        (local.set $r0 (i32.const 0))
        (br $batch)))
    (i32.store (i32.const 32) (local.get $entries))
    (i32.store (i32.const 36) (local.get $buckets))
    (i32.store (i32.const 40) (i32.const 0))
    (local.get $cnt))

  ;; Multi-Index Hashing probe of one table at radius s, 256-bit codes. Masks are
  ;; taken 2048 at a time: pass 1 looks up their buckets (independent loads the CPU can
  ;; overlap) and keeps the non-empty (from, to) ranges at `ranges`; pass 2 verifies the
  ;; entries of those ranges. A resume restarts the saved batch's pass 1 (same ranges,
  ;; counters not counted again) and continues pass 2 at the saved range and entry.
  (func (export "probe4") (param $offs i32) (param $codes i32) (param $key i32) (param $len i32)
    (param $tmask i32) (param $s i32) (param $q i32) (param $thr i32) (param $out i32) (param $cap i32)
    (param $resume i32) (param $ranges i32) (result i32)
    (local $q0 i64) (local $q1 i64) (local $q2 i64) (local $q3 i64) (local $t i64) (local $mask i64) (local $lim i64) (local $r i64) (local $bstart i64)
    (local $v i32) (local $e i32) (local $to i32) (local $from i32) (local $cnt i32) (local $entries i32)
    (local $buckets i32) (local $count i32) (local $i i32) (local $nr i32) (local $ri i32) (local $r0 i32)
    (local $e0 i32) (local $at i32) (local $d i64)
    (local.set $q0 (i64.load offset=0 (local.get $q)))
    (local.set $q1 (i64.load offset=8 (local.get $q)))
    (local.set $q2 (i64.load offset=16 (local.get $q)))
    (local.set $q3 (i64.load offset=24 (local.get $q)))
    (local.set $t (i64.extend_i32_u (local.get $thr)))
    (local.set $lim (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $len))))
    (local.set $count (i32.const 1))
    (local.set $e0 (i32.const -1))
    (if (local.get $resume)
      (then
        (local.set $mask (global.get $rmask))
        (local.set $r0 (global.get $rr))
        (local.set $e0 (global.get $rentry))
        (local.set $count (i32.const 0)))
      (else (local.set $mask (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $s))) (i64.const 1)))))
    (block $finished
      (loop $batch
        (br_if $finished (i64.ge_u (local.get $mask) (local.get $lim)))
        (local.set $bstart (local.get $mask))
        (local.set $nr (i32.const 0))
        (local.set $i (i32.const 0))
        ;; Pass 1: the buckets of up to 2048 masks.
        (block $p1done
          (loop $p1
            (br_if $p1done (i32.ge_u (local.get $i) (i32.const 2048)))
            (br_if $p1done (i64.ge_u (local.get $mask) (local.get $lim)))
            (local.set $v (i32.and (i32.xor (local.get $key) (i32.wrap_i64 (local.get $mask))) (local.get $tmask)))
            (local.set $at (i32.add (local.get $offs) (i32.shl (local.get $v) (i32.const 2))))
            (local.set $from (i32.load (local.get $at)))
            (local.set $to (i32.load offset=4 (local.get $at)))
            (local.set $entries (i32.add (local.get $entries) (i32.mul (local.get $count) (i32.sub (local.get $to) (local.get $from)))))
            (i32.store offset=0 (i32.add (local.get $ranges) (i32.shl (local.get $nr) (i32.const 3))) (local.get $from))
            (i32.store offset=4 (i32.add (local.get $ranges) (i32.shl (local.get $nr) (i32.const 3))) (local.get $to))
            (local.set $nr (i32.add (local.get $nr) (i32.ne (local.get $from) (local.get $to))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (if (i64.eqz (local.get $mask))
              (then (local.set $mask (local.get $lim)))
              (else
                ;; Gosper's hack: the next larger value with the same popcount.
                (local.set $r (i64.add (local.get $mask) (i64.and (local.get $mask) (i64.sub (i64.const 0) (local.get $mask)))))
                (local.set $mask (i64.or (local.get $r)
                  (i64.shr_u (i64.shr_u (i64.xor (local.get $r) (local.get $mask)) (i64.const 2)) (i64.ctz (local.get $mask)))))))
            (br $p1)))
        (local.set $buckets (i32.add (local.get $buckets) (i32.mul (local.get $count) (local.get $i))))
        (local.set $count (i32.const 1))
        ;; Pass 2: verify the entries of the non-empty buckets.
        (local.set $ri (local.get $r0))
        (block $p2done
          (loop $p2
            (br_if $p2done (i32.ge_u (local.get $ri) (local.get $nr)))
            (local.set $at (i32.add (local.get $ranges) (i32.shl (local.get $ri) (i32.const 3))))
            (local.set $e (i32.load offset=0 (local.get $at)))
            (local.set $to (i32.load offset=4 (local.get $at)))
            (if (i32.ge_s (local.get $e0) (i32.const 0)) (then (local.set $e (local.get $e0)) (local.set $e0 (i32.const -1))))
            (local.set $at (i32.add (local.get $codes) (i32.shl (local.get $e) (i32.const 5))))
            (block $rangedone
              (loop $entry
                (br_if $rangedone (i32.ge_u (local.get $e) (local.get $to)))
                (if (i64.le_u (local.tee $d (i64.add (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $at)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=8 (local.get $at)) (local.get $q1)))) (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $at)) (local.get $q2))) (i64.popcnt (i64.xor (i64.load offset=24 (local.get $at)) (local.get $q3)))))) (local.get $t))
                  (then
                    (if (i32.eq (local.get $cnt) (local.get $cap))
                      (then
                        (global.set $rmask (local.get $bstart))
                        (global.set $rr (local.get $ri))
                        (global.set $rentry (local.get $e))
                        (i32.store (i32.const 32) (local.get $entries))
                        (i32.store (i32.const 36) (local.get $buckets))
                        (i32.store (i32.const 40) (i32.const 1))
                        (return (local.get $cnt))))
                    (i32.store offset=0 (i32.add (local.get $out) (i32.shl (local.get $cnt) (i32.const 3))) (local.get $e))
                    (i32.store offset=4 (i32.add (local.get $out) (i32.shl (local.get $cnt) (i32.const 3))) (i32.wrap_i64 (local.get $d)))
                    (local.set $cnt (i32.add (local.get $cnt) (i32.const 1)))))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (local.set $at (i32.add (local.get $at) (i32.const 32)))
                (br $entry)))
            (local.set $ri (i32.add (local.get $ri) (i32.const 1)))
            (br $p2)))
        (local.set $r0 (i32.const 0))
        (br $batch)))
    (i32.store (i32.const 32) (local.get $entries))
    (i32.store (i32.const 36) (local.get $buckets))
    (i32.store (i32.const 40) (i32.const 0))
    (local.get $cnt))

)
