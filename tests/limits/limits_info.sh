#!/bin/sh
# `vkvae info` under the limits clamp and lavapipe's vector widths
# (tests/limits/meson.build):
#   limits_info.sh VKVAE clamp      VKVAE_LIMITS=minimum and =mali print the
#                                   clamp and the clamped limits; =discrete
#                                   the device's own limits, memory not
#                                   unified
#   limits_info.sh VKVAE bogus      an unknown VKVAE_LIMITS: exit 1, one line
#                                   naming it and the accepted values
#   limits_info.sh VKVAE subgroup   LP_NATIVE_VECTOR_WIDTH=128, 256, 512:
#                                   subgroup size 4, 8, 16 (skips, 77, when
#                                   the device is not lavapipe)
vkvae=$1
fail=0
expect() { # NAME OUTPUT PATTERN: the output has a line matching PATTERN
    if ! printf '%s\n' "$2" | grep -q -- "$3"; then
        echo "$1: no line matching '$3' in:"
        printf '%s\n' "$2"
        fail=1
    fi
}
case $2 in
clamp)
    for clamp in minimum mali; do
        out=$(VKVAE_LIMITS=$clamp "$vkvae" info 2>&1) || { echo "$clamp: exit $?: $out"; fail=1; }
        invocations=128 size='128 x 128 x 64'
        [ $clamp = mali ] && invocations=64 size='64 x 64 x 64'
        expect $clamp "$out" "^limits clamp: $clamp "
        expect $clamp "$out" "^\* .*(chosen)"
        expect $clamp "$out" "storage range  *134217728 bytes$"
        expect $clamp "$out" "shared memory  *16384 bytes$"
        expect $clamp "$out" "workgroup max  *$invocations invocations, $size$"
        expect $clamp "$out" "workgroup count  *65535 x 65535 x 65535$"
        expect $clamp "$out" "push constants  *128 bytes$"
        expect $clamp "$out" "arithmetic  *fp16 no,"
        expect $clamp "$out" "subgroup arith  *no, shuffle no$"
    done
    # discrete: the memory described as not host-visible, the limits the device's own
    own=$("$vkvae" info 2>&1)
    out=$(VKVAE_LIMITS=discrete "$vkvae" info 2>&1) || { echo "discrete: exit $?: $out"; fail=1; }
    expect discrete "$out" "^limits clamp: discrete "
    expect discrete "$out" "unified memory  *no$"
    for what in "shared memory" "workgroup max" "storage range" "arithmetic" "subgroup arith"; do
        line=$(printf '%s\n' "$own" | grep -m1 "^ *$what ")
        expect discrete "$out" "^$line\$"
    done
    out=$("$vkvae" info 2>&1)
    if printf '%s\n' "$out" | grep -q "limits clamp"; then
        echo "unclamped: a 'limits clamp' line"; fail=1
    fi
    ;;
bogus)
    out=$(VKVAE_LIMITS=bogus "$vkvae" info 2>&1)
    status=$?
    want="vkvae: error: VKVAE_LIMITS='bogus': expected minimum, mali or discrete (or unset: the device's own limits)"
    if [ $status -ne 1 ] || [ "$out" != "$want" ]; then
        echo "VKVAE_LIMITS=bogus: exit $status, output:"; printf '%s\n' "$out"; fail=1
    fi
    ;;
subgroup)
    out=$("$vkvae" info 2>&1)
    if ! printf '%s\n' "$out" | grep -A2 "(chosen)" | grep -q "driver  *llvmpipe"; then
        echo "skipped: the device is not lavapipe (LP_NATIVE_VECTOR_WIDTH is its setting)"
        exit 77
    fi
    for pair in 128:4 256:8 512:16; do
        width=${pair%:*} size=${pair#*:}
        out=$(LP_NATIVE_VECTOR_WIDTH=$width "$vkvae" info 2>&1) || { echo "$width: $out"; fail=1; }
        expect "LP_NATIVE_VECTOR_WIDTH=$width" "$out" "subgroup size  *$size (min $size, max $size)$"
    done
    ;;
*)
    echo "usage: limits_info.sh VKVAE clamp|bogus|subgroup"; exit 2 ;;
esac
exit $fail
