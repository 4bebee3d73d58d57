;; The PCA projection of query embeddings for CompactEmbeddingCodec (compact-embedding.ts),
;; and the re-rank's dot products with int8 rows held in this memory (CompactColumns), in
;; WebAssembly SIMD. Source of projection-kernel-bytes.ts; rebuild with `npm run build:wasm`.
;;
;; project4(rows, n, m, xs, ys): for four centred inputs of n floats at xs, xs + 4n, ...,
;; writes y_q[j] = rows[j] . x_q for j < m to ys + 4(q m + j). rows is m x n row-major f32;
;; n is a multiple of 4. Four inputs per pass over the basis: the basis (1.8 MB at
;; 1792 x 256) is what a projection streams from memory, so each row is read once for four
;; queries instead of once for each. Two accumulators per input hide the add latency.
;;
;; dots(query, dims, rows, ids, n, out): for the n row numbers (u32) at ids, writes the i32
;; dot product of the int16 query (dims values at query) with int8 row id (dims bytes at
;; rows + id * dims) to out + 4i; dims is a multiple of 16. Sixteen coordinates a step:
;; the row's bytes widened to two i16x8 and multiplied pairwise into i32 lanes
;; (i32x4.dot_i16x8_s); |sum| <= 32767 * 127 * dims fits an i32 for dims <= 512. Four
;; rows a pass, so four rows' loads (cache misses, mostly) are in flight at once.
;;
;; dots4(even, odd, bytes, rows, ids, n, out): the same for 4-bit rows (bytes a row, two
;; coordinates a byte, the even one in the low nibble, each nibble c a level 0..15): writes
;; sum_j even[j] * lo_j + odd[j] * hi_j, with the query's even and odd coordinates as int16
;; at `even` and `odd` (bytes values each); bytes is a multiple of 16. The caller turns it
;; into the dot product with the levels (2c - 15) (compact-embedding.ts).
(module
  (memory (export "memory") 1)
  (func (export "project4") (param $rows i32) (param $n i32) (param $m i32) (param $xs i32) (param $ys i32)
    (local $j i32) (local $i i32) (local $row i32) (local $bytes i32) (local $r v128)
    (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128)
    (local $c0 v128) (local $c1 v128) (local $d0 v128) (local $d1 v128)
    (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 2)))
    (local.set $x1 (i32.add (local.get $xs) (local.get $bytes)))
    (local.set $x2 (i32.add (local.get $x1) (local.get $bytes)))
    (local.set $x3 (i32.add (local.get $x2) (local.get $bytes)))
    (local.set $j (i32.const 0))
    (block $rows_done
      (loop $each_row
        (br_if $rows_done (i32.ge_u (local.get $j) (local.get $m)))
        (local.set $row (i32.add (local.get $rows) (i32.mul (local.get $j) (local.get $bytes))))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $b0 (v128.const i32x4 0 0 0 0))
        (local.set $b1 (v128.const i32x4 0 0 0 0))
        (local.set $c0 (v128.const i32x4 0 0 0 0))
        (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $d0 (v128.const i32x4 0 0 0 0))
        (local.set $d1 (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        ;; Eight floats a step (two vectors per input), then one vector if n % 8 == 4.
        (block $pairs_done
          (loop $pair
            (br_if $pairs_done (i32.gt_u (i32.add (local.get $i) (i32.const 32)) (local.get $bytes)))
            (local.set $r (v128.load (i32.add (local.get $row) (local.get $i))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $r) (v128.load (i32.add (local.get $xs) (local.get $i))))))
            (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $r) (v128.load (i32.add (local.get $x1) (local.get $i))))))
            (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $r) (v128.load (i32.add (local.get $x2) (local.get $i))))))
            (local.set $d0 (f32x4.add (local.get $d0) (f32x4.mul (local.get $r) (v128.load (i32.add (local.get $x3) (local.get $i))))))
            (local.set $r (v128.load offset=16 (i32.add (local.get $row) (local.get $i))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $r) (v128.load offset=16 (i32.add (local.get $xs) (local.get $i))))))
            (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $r) (v128.load offset=16 (i32.add (local.get $x1) (local.get $i))))))
            (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $r) (v128.load offset=16 (i32.add (local.get $x2) (local.get $i))))))
            (local.set $d1 (f32x4.add (local.get $d1) (f32x4.mul (local.get $r) (v128.load offset=16 (i32.add (local.get $x3) (local.get $i))))))
            (local.set $i (i32.add (local.get $i) (i32.const 32)))
            (br $pair)))
        (if (i32.lt_u (local.get $i) (local.get $bytes))
          (then
            (local.set $r (v128.load (i32.add (local.get $row) (local.get $i))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $r) (v128.load (i32.add (local.get $xs) (local.get $i))))))
            (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $r) (v128.load (i32.add (local.get $x1) (local.get $i))))))
            (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $r) (v128.load (i32.add (local.get $x2) (local.get $i))))))
            (local.set $d0 (f32x4.add (local.get $d0) (f32x4.mul (local.get $r) (v128.load (i32.add (local.get $x3) (local.get $i))))))))
        (f32.store (i32.add (local.get $ys) (i32.shl (local.get $j) (i32.const 2)))
          (call $sum4 (f32x4.add (local.get $a0) (local.get $a1))))
        (f32.store (i32.add (local.get $ys) (i32.shl (i32.add (local.get $j) (local.get $m)) (i32.const 2)))
          (call $sum4 (f32x4.add (local.get $b0) (local.get $b1))))
        (f32.store (i32.add (local.get $ys) (i32.shl (i32.add (local.get $j) (i32.shl (local.get $m) (i32.const 1))) (i32.const 2)))
          (call $sum4 (f32x4.add (local.get $c0) (local.get $c1))))
        (f32.store (i32.add (local.get $ys) (i32.shl (i32.add (local.get $j) (i32.mul (local.get $m) (i32.const 3))) (i32.const 2)))
          (call $sum4 (f32x4.add (local.get $d0) (local.get $d1))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $each_row))))
  (func (export "dots") (param $query i32) (param $dims i32) (param $rows i32) (param $ids i32) (param $n i32) (param $out i32)
    (local $r i32) (local $j i32) (local $row i32) (local $v v128) (local $a0 v128) (local $a1 v128)
    (local $rb i32) (local $rc i32) (local $rd i32) (local $ql v128) (local $qh v128)
    (local $b0 v128) (local $b1 v128) (local $c0 v128) (local $c1 v128) (local $d0 v128) (local $d1 v128)
    ;; Four rows a pass: their loads are independent, so four rows' cache misses are in
    ;; flight at once (the rows lie scattered over up to hundreds of MB), and each step of
    ;; the query is loaded once for the four.
    (block $quads_done
      (loop $each_quad
        (br_if $quads_done (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $n)))
        (local.set $row (i32.add (local.get $rows)
          (i32.mul (i32.load offset=0 (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))) (local.get $dims))))
        (local.set $rb (i32.add (local.get $rows)
          (i32.mul (i32.load offset=4 (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))) (local.get $dims))))
        (local.set $rc (i32.add (local.get $rows)
          (i32.mul (i32.load offset=8 (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))) (local.get $dims))))
        (local.set $rd (i32.add (local.get $rows)
          (i32.mul (i32.load offset=12 (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))) (local.get $dims))))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $b0 (v128.const i32x4 0 0 0 0))
        (local.set $b1 (v128.const i32x4 0 0 0 0))
        (local.set $c0 (v128.const i32x4 0 0 0 0))
        (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $d0 (v128.const i32x4 0 0 0 0))
        (local.set $d1 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $quad_steps_done
          (loop $quad_step
            (br_if $quad_steps_done (i32.ge_u (local.get $j) (local.get $dims)))
            (local.set $ql (v128.load (i32.add (local.get $query) (i32.shl (local.get $j) (i32.const 1)))))
            (local.set $qh (v128.load offset=16 (i32.add (local.get $query) (i32.shl (local.get $j) (i32.const 1)))))
            (local.set $v (v128.load (i32.add (local.get $row) (local.get $j))))
            (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))))
            (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh))))
            (local.set $v (v128.load (i32.add (local.get $rb) (local.get $j))))
            (local.set $b0 (i32x4.add (local.get $b0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))))
            (local.set $b1 (i32x4.add (local.get $b1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh))))
            (local.set $v (v128.load (i32.add (local.get $rc) (local.get $j))))
            (local.set $c0 (i32x4.add (local.get $c0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))))
            (local.set $c1 (i32x4.add (local.get $c1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh))))
            (local.set $v (v128.load (i32.add (local.get $rd) (local.get $j))))
            (local.set $d0 (i32x4.add (local.get $d0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v)) (local.get $ql))))
            (local.set $d1 (i32x4.add (local.get $d1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v)) (local.get $qh))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $quad_step)))
        (i32.store offset=0 (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (call $isum (i32x4.add (local.get $a0) (local.get $a1))))
        (i32.store offset=4 (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (call $isum (i32x4.add (local.get $b0) (local.get $b1))))
        (i32.store offset=8 (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (call $isum (i32x4.add (local.get $c0) (local.get $c1))))
        (i32.store offset=12 (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (call $isum (i32x4.add (local.get $d0) (local.get $d1))))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $each_quad)))
    ;; The last rows (fewer than four), one at a time.
    (block $rows_done
      (loop $each_row
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $row (i32.add (local.get $rows)
          (i32.mul (i32.load (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))) (local.get $dims))))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $steps_done
          (loop $step
            (br_if $steps_done (i32.ge_u (local.get $j) (local.get $dims)))
            (local.set $v (v128.load (i32.add (local.get $row) (local.get $j))))
            (local.set $a0 (i32x4.add (local.get $a0)
              (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v))
                (v128.load (i32.add (local.get $query) (i32.shl (local.get $j) (i32.const 1)))))))
            (local.set $a1 (i32x4.add (local.get $a1)
              (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v))
                (v128.load offset=16 (i32.add (local.get $query) (i32.shl (local.get $j) (i32.const 1)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $step)))
        (local.set $a0 (i32x4.add (local.get $a0) (local.get $a1)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2)))
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $a0)) (i32x4.extract_lane 1 (local.get $a0)))
            (i32.add (i32x4.extract_lane 2 (local.get $a0)) (i32x4.extract_lane 3 (local.get $a0)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $each_row))))
  (func (export "dots4") (param $even i32) (param $odd i32) (param $bytes i32) (param $rows i32) (param $ids i32) (param $n i32) (param $out i32)
    (local $r i32) (local $j i32) (local $row i32) (local $v v128) (local $lo v128) (local $hi v128)
    (local $a0 v128) (local $a1 v128) (local $q i32)
    (local $rb i32) (local $rc i32) (local $rd i32) (local $b0 v128) (local $b1 v128) (local $c0 v128) (local $c1 v128)
    (local $d0 v128) (local $d1 v128) (local $e0 v128) (local $e1 v128) (local $o0 v128) (local $o1 v128)
    ;; Four rows a pass, as in dots: their cache misses are in flight at once, and each
    ;; step of the query is loaded once for the four.
    (block $quads_done
      (loop $each_quad
        (br_if $quads_done (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $n)))
        (local.set $row (i32.add (local.get $rows)
          (i32.mul (i32.load offset=0 (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))) (local.get $bytes))))
        (local.set $rb (i32.add (local.get $rows)
          (i32.mul (i32.load offset=4 (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))) (local.get $bytes))))
        (local.set $rc (i32.add (local.get $rows)
          (i32.mul (i32.load offset=8 (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))) (local.get $bytes))))
        (local.set $rd (i32.add (local.get $rows)
          (i32.mul (i32.load offset=12 (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))) (local.get $bytes))))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $b0 (v128.const i32x4 0 0 0 0))
        (local.set $b1 (v128.const i32x4 0 0 0 0))
        (local.set $c0 (v128.const i32x4 0 0 0 0))
        (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $d0 (v128.const i32x4 0 0 0 0))
        (local.set $d1 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $quad_steps_done
          (loop $quad_step
            (br_if $quad_steps_done (i32.ge_u (local.get $j) (local.get $bytes)))
            (local.set $q (i32.shl (local.get $j) (i32.const 1)))
            (local.set $e0 (v128.load (i32.add (local.get $even) (local.get $q))))
            (local.set $e1 (v128.load offset=16 (i32.add (local.get $even) (local.get $q))))
            (local.set $o0 (v128.load (i32.add (local.get $odd) (local.get $q))))
            (local.set $o1 (v128.load offset=16 (i32.add (local.get $odd) (local.get $q))))
            (local.set $v (v128.load (i32.add (local.get $row) (local.get $j))))
            (local.set $lo (v128.and (local.get $v) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
            (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
            (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $lo)) (local.get $e0))))
            (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $lo)) (local.get $e1))))
            (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $hi)) (local.get $o0))))
            (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $hi)) (local.get $o1))))
            (local.set $v (v128.load (i32.add (local.get $rb) (local.get $j))))
            (local.set $lo (v128.and (local.get $v) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
            (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
            (local.set $b0 (i32x4.add (local.get $b0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $lo)) (local.get $e0))))
            (local.set $b1 (i32x4.add (local.get $b1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $lo)) (local.get $e1))))
            (local.set $b0 (i32x4.add (local.get $b0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $hi)) (local.get $o0))))
            (local.set $b1 (i32x4.add (local.get $b1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $hi)) (local.get $o1))))
            (local.set $v (v128.load (i32.add (local.get $rc) (local.get $j))))
            (local.set $lo (v128.and (local.get $v) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
            (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
            (local.set $c0 (i32x4.add (local.get $c0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $lo)) (local.get $e0))))
            (local.set $c1 (i32x4.add (local.get $c1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $lo)) (local.get $e1))))
            (local.set $c0 (i32x4.add (local.get $c0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $hi)) (local.get $o0))))
            (local.set $c1 (i32x4.add (local.get $c1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $hi)) (local.get $o1))))
            (local.set $v (v128.load (i32.add (local.get $rd) (local.get $j))))
            (local.set $lo (v128.and (local.get $v) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
            (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
            (local.set $d0 (i32x4.add (local.get $d0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $lo)) (local.get $e0))))
            (local.set $d1 (i32x4.add (local.get $d1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $lo)) (local.get $e1))))
            (local.set $d0 (i32x4.add (local.get $d0) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $hi)) (local.get $o0))))
            (local.set $d1 (i32x4.add (local.get $d1) (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $hi)) (local.get $o1))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $quad_step)))
        (i32.store offset=0 (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (call $isum (i32x4.add (local.get $a0) (local.get $a1))))
        (i32.store offset=4 (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (call $isum (i32x4.add (local.get $b0) (local.get $b1))))
        (i32.store offset=8 (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (call $isum (i32x4.add (local.get $c0) (local.get $c1))))
        (i32.store offset=12 (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (call $isum (i32x4.add (local.get $d0) (local.get $d1))))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $each_quad)))
    ;; The last rows (fewer than four), one at a time.
    (block $rows_done
      (loop $each_row
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $row (i32.add (local.get $rows)
          (i32.mul (i32.load (i32.add (local.get $ids) (i32.shl (local.get $r) (i32.const 2)))) (local.get $bytes))))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $steps_done
          (loop $step
            (br_if $steps_done (i32.ge_u (local.get $j) (local.get $bytes)))
            (local.set $v (v128.load (i32.add (local.get $row) (local.get $j))))
            (local.set $lo (v128.and (local.get $v) (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15)))
            (local.set $hi (i8x16.shr_u (local.get $v) (i32.const 4)))
            (local.set $q (i32.shl (local.get $j) (i32.const 1)))
            (local.set $a0 (i32x4.add (local.get $a0)
              (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $lo)) (v128.load (i32.add (local.get $even) (local.get $q))))))
            (local.set $a1 (i32x4.add (local.get $a1)
              (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $lo)) (v128.load offset=16 (i32.add (local.get $even) (local.get $q))))))
            (local.set $a0 (i32x4.add (local.get $a0)
              (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $hi)) (v128.load (i32.add (local.get $odd) (local.get $q))))))
            (local.set $a1 (i32x4.add (local.get $a1)
              (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $hi)) (v128.load offset=16 (i32.add (local.get $odd) (local.get $q))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $step)))
        (local.set $a0 (i32x4.add (local.get $a0) (local.get $a1)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2)))
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $a0)) (i32x4.extract_lane 1 (local.get $a0)))
            (i32.add (i32x4.extract_lane 2 (local.get $a0)) (i32x4.extract_lane 3 (local.get $a0)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $each_row))))
  (func $isum (param $v v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))
  (func $sum4 (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v))))))
