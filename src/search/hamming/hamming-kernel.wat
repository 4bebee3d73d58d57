;; Hamming threshold scan kernels for LinearScanIndex (see scan-kernels.ts).
;; Source of wasm-kernel-bytes.ts; rebuild with `npx tsx tools/wasm/build-hamming-wasm.ts`.
;;
;; Each exported scanN(codes, n, query, thr, out) -> count walks n codes of N*64 bits
;; starting at byte address `codes`, XORs each with the query at byte address `query`,
;; and for every code whose distance d <= thr writes the pair (i32 index in 0..n-1,
;; i32 d) at out + 8*count. The caller sizes `out` for n pairs, so it cannot overflow.
;; Why a threshold filter rather than a heap in WebAssembly: once k results are known
;; almost every code fails the bound, so the hot loop is load/xor/popcnt/compare and the
;; (rare) heap updates stay in JS where ties by id are easy to get right.
(module
  (memory (export "memory") 1)

  ;; 64-bit codes, eight per iteration with one branch per group, because almost every
  ;; code fails the bound (measured ~1.4x over four per group with a compare per code).
  (func (export "scan1") (param $codes i32) (param $n i32) (param $q i32) (param $thr i32)
    (param $out i32) (result i32)
    (local $q0 i64) (local $t1 i64) (local $p i32) (local $end8 i32) (local $end i32) (local $cnt i32)
    (local $d0 i64) (local $d1 i64) (local $d2 i64) (local $d3 i64)
    (local $d4 i64) (local $d5 i64) (local $d6 i64) (local $d7 i64) (local $base i32)
    (local.set $q0 (i64.load (local.get $q)))
    (local.set $t1 (i64.extend_i32_u (i32.add (local.get $thr) (i32.const 1))))
    (local.set $p (local.get $codes))
    (local.set $end (i32.add (local.get $codes) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $end8 (i32.add (local.get $codes)
      (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 3))))
    (block $done8
      (loop $group
        (br_if $done8 (i32.ge_u (local.get $p) (local.get $end8)))
        (local.set $d0 (i64.popcnt (i64.xor (i64.load offset=0 (local.get $p)) (local.get $q0))))
        (local.set $d1 (i64.popcnt (i64.xor (i64.load offset=8 (local.get $p)) (local.get $q0))))
        (local.set $d2 (i64.popcnt (i64.xor (i64.load offset=16 (local.get $p)) (local.get $q0))))
        (local.set $d3 (i64.popcnt (i64.xor (i64.load offset=24 (local.get $p)) (local.get $q0))))
        (local.set $d4 (i64.popcnt (i64.xor (i64.load offset=32 (local.get $p)) (local.get $q0))))
        (local.set $d5 (i64.popcnt (i64.xor (i64.load offset=40 (local.get $p)) (local.get $q0))))
        (local.set $d6 (i64.popcnt (i64.xor (i64.load offset=48 (local.get $p)) (local.get $q0))))
        (local.set $d7 (i64.popcnt (i64.xor (i64.load offset=56 (local.get $p)) (local.get $q0))))
        ;; d <= thr  <=>  d - (thr+1) < 0, so one sign test covers the whole group.
        (if (i64.lt_s
              (i64.or
                (i64.or (i64.or (i64.sub (local.get $d0) (local.get $t1)) (i64.sub (local.get $d1) (local.get $t1)))
                        (i64.or (i64.sub (local.get $d2) (local.get $t1)) (i64.sub (local.get $d3) (local.get $t1))))
                (i64.or (i64.or (i64.sub (local.get $d4) (local.get $t1)) (i64.sub (local.get $d5) (local.get $t1)))
                        (i64.or (i64.sub (local.get $d6) (local.get $t1)) (i64.sub (local.get $d7) (local.get $t1)))))
              (i64.const 0))
          (then
            (local.set $base (i32.shr_u (i32.sub (local.get $p) (local.get $codes)) (i32.const 3)))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (local.get $base) (i32.wrap_i64 (local.get $d0))))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 1)) (i32.wrap_i64 (local.get $d1))))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 2)) (i32.wrap_i64 (local.get $d2))))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 3)) (i32.wrap_i64 (local.get $d3))))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 4)) (i32.wrap_i64 (local.get $d4))))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 5)) (i32.wrap_i64 (local.get $d5))))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 6)) (i32.wrap_i64 (local.get $d6))))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 7)) (i32.wrap_i64 (local.get $d7))))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $group)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr)
          (i32.shr_u (i32.sub (local.get $p) (local.get $codes)) (i32.const 3))
          (i32.wrap_i64 (i64.popcnt (i64.xor (i64.load (local.get $p)) (local.get $q0))))))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br $tail)))
    (local.get $cnt))

  ;; 128-bit codes, four per group (same single sign test as scan1).
  (func (export "scan2") (param $codes i32) (param $n i32) (param $q i32) (param $thr i32)
    (param $out i32) (result i32)
    (local $q0 i64) (local $q1 i64) (local $t1 i64)
    (local $p i32) (local $endg i32) (local $end i32) (local $cnt i32) (local $base i32)
    (local $d0 i64) (local $d1 i64) (local $d2 i64) (local $d3 i64)
    (local.set $q0 (i64.load offset=0 (local.get $q)))
    (local.set $q1 (i64.load offset=8 (local.get $q)))
    (local.set $t1 (i64.extend_i32_u (i32.add (local.get $thr) (i32.const 1))))
    (local.set $p (local.get $codes))
    (local.set $end (i32.add (local.get $codes) (i32.mul (local.get $n) (i32.const 16))))
    (local.set $endg (i32.add (local.get $codes) (i32.mul (i32.and (local.get $n) (i32.const -4)) (i32.const 16))))
    (block $doneg
      (loop $group
        (br_if $doneg (i32.ge_u (local.get $p) (local.get $endg)))
        (local.set $d0 (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=8 (local.get $p)) (local.get $q1)))))
        (local.set $d1 (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=24 (local.get $p)) (local.get $q1)))))
        (local.set $d2 (i64.add (i64.popcnt (i64.xor (i64.load offset=32 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=40 (local.get $p)) (local.get $q1)))))
        (local.set $d3 (i64.add (i64.popcnt (i64.xor (i64.load offset=48 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=56 (local.get $p)) (local.get $q1)))))
        (if (i64.lt_s (i64.or (i64.or (i64.sub (local.get $d0) (local.get $t1)) (i64.sub (local.get $d1) (local.get $t1))) (i64.or (i64.sub (local.get $d2) (local.get $t1)) (i64.sub (local.get $d3) (local.get $t1)))) (i64.const 0))
          (then
            (local.set $base (i32.div_u (i32.sub (local.get $p) (local.get $codes)) (i32.const 16)))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 0)) (i32.wrap_i64 (local.get $d0))))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 1)) (i32.wrap_i64 (local.get $d1))))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 2)) (i32.wrap_i64 (local.get $d2))))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 3)) (i32.wrap_i64 (local.get $d3))))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $group)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr)
          (i32.div_u (i32.sub (local.get $p) (local.get $codes)) (i32.const 16))
          (i32.wrap_i64 (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=8 (local.get $p)) (local.get $q1)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $tail)))
    (local.get $cnt))

  ;; 256-bit codes, two per group.
  (func (export "scan4") (param $codes i32) (param $n i32) (param $q i32) (param $thr i32)
    (param $out i32) (result i32)
    (local $q0 i64) (local $q1 i64) (local $q2 i64) (local $q3 i64) (local $t1 i64)
    (local $p i32) (local $endg i32) (local $end i32) (local $cnt i32) (local $base i32)
    (local $d0 i64) (local $d1 i64)
    (local.set $q0 (i64.load offset=0 (local.get $q)))
    (local.set $q1 (i64.load offset=8 (local.get $q)))
    (local.set $q2 (i64.load offset=16 (local.get $q)))
    (local.set $q3 (i64.load offset=24 (local.get $q)))
    (local.set $t1 (i64.extend_i32_u (i32.add (local.get $thr) (i32.const 1))))
    (local.set $p (local.get $codes))
    (local.set $end (i32.add (local.get $codes) (i32.mul (local.get $n) (i32.const 32))))
    (local.set $endg (i32.add (local.get $codes) (i32.mul (i32.and (local.get $n) (i32.const -2)) (i32.const 32))))
    (block $doneg
      (loop $group
        (br_if $doneg (i32.ge_u (local.get $p) (local.get $endg)))
        (local.set $d0 (i64.add (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=8 (local.get $p)) (local.get $q1)))) (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $p)) (local.get $q2))) (i64.popcnt (i64.xor (i64.load offset=24 (local.get $p)) (local.get $q3))))))
        (local.set $d1 (i64.add (i64.add (i64.popcnt (i64.xor (i64.load offset=32 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=40 (local.get $p)) (local.get $q1)))) (i64.add (i64.popcnt (i64.xor (i64.load offset=48 (local.get $p)) (local.get $q2))) (i64.popcnt (i64.xor (i64.load offset=56 (local.get $p)) (local.get $q3))))))
        (if (i64.lt_s (i64.or (i64.sub (local.get $d0) (local.get $t1)) (i64.sub (local.get $d1) (local.get $t1))) (i64.const 0))
          (then
            (local.set $base (i32.div_u (i32.sub (local.get $p) (local.get $codes)) (i32.const 32)))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 0)) (i32.wrap_i64 (local.get $d0))))
            (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr) (i32.add (local.get $base) (i32.const 1)) (i32.wrap_i64 (local.get $d1))))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $group)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $cnt (call $emit (local.get $out) (local.get $cnt) (local.get $thr)
          (i32.div_u (i32.sub (local.get $p) (local.get $codes)) (i32.const 32))
          (i32.wrap_i64 (i64.add (i64.add (i64.popcnt (i64.xor (i64.load offset=0 (local.get $p)) (local.get $q0))) (i64.popcnt (i64.xor (i64.load offset=8 (local.get $p)) (local.get $q1)))) (i64.add (i64.popcnt (i64.xor (i64.load offset=16 (local.get $p)) (local.get $q2))) (i64.popcnt (i64.xor (i64.load offset=24 (local.get $p)) (local.get $q3))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $tail)))
    (local.get $cnt))

  ;; Appends (index, d) when d <= thr; returns the new count.
  (func $emit (param $out i32) (param $cnt i32) (param $thr i32) (param $idx i32) (param $d i32)
    (result i32)
    (local $at i32)
    (if (i32.gt_u (local.get $d) (local.get $thr)) (then (return (local.get $cnt))))
    (local.set $at (i32.add (local.get $out) (i32.shl (local.get $cnt) (i32.const 3))))
    (i32.store offset=0 (local.get $at) (local.get $idx))
    (i32.store offset=4 (local.get $at) (local.get $d))
    (i32.add (local.get $cnt) (i32.const 1))))
