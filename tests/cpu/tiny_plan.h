/* The hand-written plan several tests share: a tiny Bernoulli autoencoder,
 * 6-4-6 (dense+tanh, dense to logits), trained with Adam on 10 rows in
 * batches of 3, written as the generator would emit it.
 *
 * The tables are macros rather than arrays so that a test can extend them
 * (the hazard test appends aliasing tensors and a ring buffer after
 * T_TINY_COUNT) and instantiates only what it uses:
 *
 *   static const vkvae_buffer_desc buffers[] = { TINY_BUFFERS };
 *   static const vkvae_tensor_desc tensors[] = { TINY_TENSORS };
 *   static const vkvae_step_desc train_steps[] = { TINY_TRAIN_STEPS };
 *
 * Layout. "params" holds fc.weight [4,6] at byte 0, fc.bias [4] at 256,
 * dec.weight [6,4] at 512 and dec.bias [6] at 768; "params.all" views the
 * whole 1024-byte buffer for Adam, and "grads" mirrors it. "adam" holds m
 * (bytes 0..1024) then v (1024..2048), each mirroring "params". Barriers
 * are left unset (the hazard test places them; the CPU backend needs none).
 */
#ifndef VKVAE_TESTS_TINY_PLAN_H
#define VKVAE_TESTS_TINY_PLAN_H

#include "plan/plan.h"

enum { N = 10, IN = 6, HID = 4, B = 3 };

enum { BUF_DATA, BUF_PARAM, BUF_GRAD, BUF_ADAM, BUF_ACT, BUF_ACC, TINY_BUF_COUNT };

#define TINY_BUFFERS \
    [BUF_DATA] = { "data", VKVAE_ROLE_DATA, 512 }, \
    [BUF_PARAM] = { "params", VKVAE_ROLE_PARAM, 1024 }, \
    [BUF_GRAD] = { "grads", VKVAE_ROLE_GRAD, 1024 }, \
    [BUF_ADAM] = { "adam", VKVAE_ROLE_OPTIM, 2048 }, \
    [BUF_ACT] = { "act", VKVAE_ROLE_ACTIVATION, 2048 }, \
    [BUF_ACC] = { "acc", VKVAE_ROLE_ACCUM, 16 }

enum {
    T_IMAGES, T_PERM, T_FC_W, T_FC_B, T_DEC_W, T_DEC_B, T_G_FC_W, T_G_FC_B, T_G_DEC_W, T_G_DEC_B,
    T_P_ALL, T_G_ALL, T_M, T_V, T_X, T_H, T_LOGITS, T_NLL, T_KL, T_DLOGITS, T_DH, T_DHPRE, T_ACC,
    T_TINY_COUNT
};

#define TINY_TENSORS \
    [T_IMAGES] = { "train.images", BUF_DATA, 0, N * IN, 2, { N, IN } }, /* 60 bytes */ \
    [T_PERM] = { "train.perm", BUF_DATA, 256, N, 1, { N } }, \
    [T_FC_W] = { "fc.weight", BUF_PARAM, 0, HID * IN, 2, { HID, IN } }, \
    [T_FC_B] = { "fc.bias", BUF_PARAM, 256, HID, 1, { HID } }, \
    [T_DEC_W] = { "dec.weight", BUF_PARAM, 512, IN * HID, 2, { IN, HID } }, \
    [T_DEC_B] = { "dec.bias", BUF_PARAM, 768, IN, 1, { IN } }, \
    [T_G_FC_W] = { "fc.weight.grad", BUF_GRAD, 0, HID * IN, 2, { HID, IN } }, \
    [T_G_FC_B] = { "fc.bias.grad", BUF_GRAD, 256, HID, 1, { HID } }, \
    [T_G_DEC_W] = { "dec.weight.grad", BUF_GRAD, 512, IN * HID, 2, { IN, HID } }, \
    [T_G_DEC_B] = { "dec.bias.grad", BUF_GRAD, 768, IN, 1, { IN } }, \
    [T_P_ALL] = { "params.all", BUF_PARAM, 0, 256, 1, { 256 } }, \
    [T_G_ALL] = { "grads.all", BUF_GRAD, 0, 256, 1, { 256 } }, \
    [T_M] = { "adam.m", BUF_ADAM, 0, 256, 1, { 256 } }, \
    [T_V] = { "adam.v", BUF_ADAM, 1024, 256, 1, { 256 } }, \
    [T_X] = { "x", BUF_ACT, 0, B * IN, 2, { B, IN } }, \
    [T_H] = { "h", BUF_ACT, 256, B * HID, 2, { B, HID } }, \
    [T_LOGITS] = { "logits", BUF_ACT, 512, B * IN, 2, { B, IN } }, \
    [T_NLL] = { "nll", BUF_ACT, 768, B, 1, { B } }, \
    [T_KL] = { "kl", BUF_ACT, 1024, B, 1, { B } }, \
    [T_DLOGITS] = { "dlogits", BUF_ACT, 1280, B * IN, 2, { B, IN } }, \
    [T_DH] = { "dh", BUF_ACT, 1536, B * HID, 2, { B, HID } }, \
    [T_DHPRE] = { "dh_pre", BUF_ACT, 1792, B * HID, 2, { B, HID } }, \
    [T_ACC] = { "loss", BUF_ACC, 0, 4, 1, { 4 } }

/* STEP(OP, tensors...), .p = { ... } }: one step, its binding count from
 * the tensor list. */
#define STEP(o, ...) { .op = VKVAE_OP_##o, .n_tensors = sizeof((uint32_t[]){ __VA_ARGS__ }) / 4, .tensors = { __VA_ARGS__ }

/* The training step: forward, loss, backward, Adam (lr 0.05) on params.all. */
#define TINY_TRAIN_STEPS \
    STEP(GATHER, T_IMAGES, T_PERM, T_X), .p = { .n = B, .in = IN } }, \
    STEP(DENSE, T_X, T_FC_W, T_FC_B, T_H), .p = { .n = B, .in = IN, .out = HID, .act = VKVAE_ACT_TANH } }, \
    STEP(DENSE, T_H, T_DEC_W, T_DEC_B, T_LOGITS), .p = { .n = B, .in = HID, .out = IN } }, \
    STEP(NLL_BERNOULLI, T_LOGITS, T_X, T_NLL), .p = { .n = B, .in = IN } }, \
    STEP(LOSS_ACCUM, T_NLL, T_KL, T_ACC), .p = { .n = B } }, \
    STEP(NLL_BERNOULLI_BWD, T_LOGITS, T_X, T_DLOGITS), .p = { .n = B, .in = IN } }, \
    STEP(DENSE_BWD_W, T_DLOGITS, T_H, T_G_DEC_W, T_G_DEC_B), .p = { .n = B, .in = HID, .out = IN } }, \
    STEP(DENSE_BWD_X, T_DLOGITS, T_DEC_W, T_H, T_DH), .p = { .n = B, .in = HID, .out = IN } }, \
    STEP(ACT_BWD, T_DH, T_H, T_DHPRE), .p = { .n = B, .in = HID, .act = VKVAE_ACT_TANH } }, \
    STEP(DENSE_BWD_W, T_DHPRE, T_X, T_G_FC_W, T_G_FC_B), .p = { .n = B, .in = IN, .out = HID } }, \
    STEP(ADAM, T_P_ALL, T_G_ALL, T_M, T_V), .p = { .in = 256, .lr = 0.05f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f } }

#endif
