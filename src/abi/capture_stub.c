/* The machine as an oracle of the calling convention (spec/08-layout-abi.md §8.3).
 *
 * muni_capture_TAG is called in place of a C function: it records every argument
 * register, %rax (for %al) and the outgoing stack area, then returns a chosen
 * pattern in rax, rdx, xmm0 and xmm1, or copies it into the sret buffer that
 * arrived in rdi and returns that address in rax.
 *
 * muni_inject_TAG calls a function the other way round: it loads every argument
 * register, %rax and a stack area from an image, calls the target, and records
 * rax, rdx, xmm0 and xmm1 after it returns.
 *
 * Records and images share one layout:
 *   0..48    rdi rsi rdx rcx r8 r9
 *   48       rax (%al is its low byte)
 *   56..184  xmm0..xmm7, 16 bytes each
 *   184      the number of stack bytes (set by the harness, read by the stubs)
 *   192..    the stack area: what the caller put above its return address
 * The pattern for results: 0 rax, 8 rdx, 16 xmm0, 32 xmm1 (16 bytes each),
 * 48 the sret size (0: not sret), 56.. the sret bytes.
 *
 * TAG makes the names of each build unique: libraries are loaded RTLD_GLOBAL,
 * where the first definition of a name would win. */
#include <stdint.h>

#define STACK_MAX 65536
unsigned char muni_capture_rec_TAG[192 + STACK_MAX] __attribute__((aligned(16)));
unsigned char muni_capture_ret_TAG[56 + STACK_MAX] __attribute__((aligned(16)));
unsigned char muni_capture_out_TAG[STACK_MAX] __attribute__((aligned(16)));
unsigned char muni_inject_in_TAG[192 + STACK_MAX] __attribute__((aligned(16)));
unsigned char muni_inject_ret_TAG[48] __attribute__((aligned(16)));
unsigned char muni_inject_sret_TAG[STACK_MAX] __attribute__((aligned(16)));

void muni_capture_TAG(void);
void muni_inject_TAG(void *target);

__asm__(
    ".text\n"
    ".globl muni_capture_TAG\n"
    ".type muni_capture_TAG, @function\n"
    "muni_capture_TAG:\n"
    "  movq muni_capture_rec_TAG@GOTPCREL(%rip), %r11\n"
    "  movq %rdi, 0(%r11)\n"
    "  movq %rsi, 8(%r11)\n"
    "  movq %rdx, 16(%r11)\n"
    "  movq %rcx, 24(%r11)\n"
    "  movq %r8, 32(%r11)\n"
    "  movq %r9, 40(%r11)\n"
    "  movq %rax, 48(%r11)\n"
    "  movdqu %xmm0, 56(%r11)\n"
    "  movdqu %xmm1, 72(%r11)\n"
    "  movdqu %xmm2, 88(%r11)\n"
    "  movdqu %xmm3, 104(%r11)\n"
    "  movdqu %xmm4, 120(%r11)\n"
    "  movdqu %xmm5, 136(%r11)\n"
    "  movdqu %xmm6, 152(%r11)\n"
    "  movdqu %xmm7, 168(%r11)\n"
    "  movq 184(%r11), %rcx\n"
    "  leaq 8(%rsp), %rsi\n"
    "  leaq 192(%r11), %rdi\n"
    "  rep movsb\n"
    "  movq muni_capture_ret_TAG@GOTPCREL(%rip), %r11\n"
    "  movq 48(%r11), %rcx\n"
    "  testq %rcx, %rcx\n"
    "  jz 1f\n"
    "  movq muni_capture_rec_TAG@GOTPCREL(%rip), %rax\n"
    "  movq 0(%rax), %rdi\n"
    "  leaq 56(%r11), %rsi\n"
    "  rep movsb\n"
    "  movq 0(%rax), %rax\n"
    "  ret\n"
    "1:\n"
    "  movq 0(%r11), %rax\n"
    "  movq 8(%r11), %rdx\n"
    "  movdqu 16(%r11), %xmm0\n"
    "  movdqu 32(%r11), %xmm1\n"
    "  ret\n"
    ".size muni_capture_TAG, .-muni_capture_TAG\n"
    "\n"
    ".globl muni_inject_TAG\n"
    ".type muni_inject_TAG, @function\n"
    "muni_inject_TAG:\n"
    "  pushq %rbp\n"
    "  movq %rsp, %rbp\n"
    "  pushq %rbx\n"
    "  pushq %r12\n"
    "  movq %rdi, %r12\n"
    "  movq muni_inject_in_TAG@GOTPCREL(%rip), %rbx\n"
    "  movq 184(%rbx), %rcx\n"
    "  addq $15, %rcx\n"
    "  andq $-16, %rcx\n"
    "  subq %rcx, %rsp\n"
    "  leaq 192(%rbx), %rsi\n"
    "  movq %rsp, %rdi\n"
    "  rep movsb\n"
    "  movdqu 56(%rbx), %xmm0\n"
    "  movdqu 72(%rbx), %xmm1\n"
    "  movdqu 88(%rbx), %xmm2\n"
    "  movdqu 104(%rbx), %xmm3\n"
    "  movdqu 120(%rbx), %xmm4\n"
    "  movdqu 136(%rbx), %xmm5\n"
    "  movdqu 152(%rbx), %xmm6\n"
    "  movdqu 168(%rbx), %xmm7\n"
    "  movq 0(%rbx), %rdi\n"
    "  movq 8(%rbx), %rsi\n"
    "  movq 16(%rbx), %rdx\n"
    "  movq 24(%rbx), %rcx\n"
    "  movq 32(%rbx), %r8\n"
    "  movq 40(%rbx), %r9\n"
    "  movq 48(%rbx), %rax\n"
    "  call *%r12\n"
    "  movq muni_inject_ret_TAG@GOTPCREL(%rip), %rbx\n"
    "  movq %rax, 0(%rbx)\n"
    "  movq %rdx, 8(%rbx)\n"
    "  movdqu %xmm0, 16(%rbx)\n"
    "  movdqu %xmm1, 32(%rbx)\n"
    "  leaq -16(%rbp), %rsp\n"
    "  popq %r12\n"
    "  popq %rbx\n"
    "  popq %rbp\n"
    "  ret\n"
    ".size muni_inject_TAG, .-muni_inject_TAG\n");
