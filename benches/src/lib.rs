//! Kernels shared by muni's benchmarks: Mu IR programs and how many model steps
//! each takes, so that throughput is reported in steps per second.

/// A counting loop: `@sum(n)` adds 1..n with block arguments; about 5 steps per
/// iteration, all simple (integer arithmetic, comparison, branch).
pub const SUM_LOOP: &str = r"
.typedef @i64 = int<64>
.funcsig @sum_sig = (@i64) -> (@i64)
.const @ZERO <@i64> = 0
.const @ONE <@i64> = 1
.funcdef @sum VERSION %v1 <@sum_sig> {
    %entry(<@i64> %n):
        BRANCH %head(%n @ZERO @ZERO)
    %head(<@i64> %n <@i64> %i <@i64> %s):
        %c = SLT <@i64> %i %n
        BRANCH2 %c %body(%n %i %s) %exit(%s)
    %body(<@i64> %n <@i64> %i <@i64> %s):
        %i1 = ADD <@i64> %i @ONE
        %s1 = ADD <@i64> %s %i1
        BRANCH %head(%n %i1 %s1)
    %exit(<@i64> %s):
        RET %s
}
";

/// Recursive Fibonacci: calls, returns and arithmetic.
pub const FIB: &str = r"
.typedef @i64 = int<64>
.funcsig @fib_sig = (@i64) -> (@i64)
.const @ONE <@i64> = 1
.const @TWO <@i64> = 2
.funcdef @fib VERSION %v1 <@fib_sig> {
    %entry(<@i64> %n):
        %small = SLT <@i64> %n @TWO
        BRANCH2 %small %base(%n) %rec(%n)
    %base(<@i64> %n):
        RET %n
    %rec(<@i64> %n):
        %a = SUB <@i64> %n @ONE
        %b = SUB <@i64> %n @TWO
        %fa = CALL <@fib_sig> @fib (%a)
        %fb = CALL <@fib_sig> @fib (%b)
        %r = ADD <@i64> %fa %fb
        RET %r
}
";

/// A loop over a heap array of structs: NEWHYBRID, SHIFTIREF, GETFIELDIREF, LOAD, STORE.
pub const HEAP_LOOP: &str = r"
.typedef @i64 = int<64>
.typedef @P = struct<@i64 @i64>
.typedef @Arr = hybrid<@i64 @P>
.typedef @irefP = iref<@P>
.funcsig @run_sig = (@i64) -> (@i64)
.const @ZERO <@i64> = 0
.const @ONE <@i64> = 1
.funcdef @run VERSION %v1 <@run_sig> {
    %entry(<@i64> %n):
        %a = NEWHYBRID <@Arr @i64> %n
        %ia = GETIREF <@Arr> %a
        %v = GETVARPARTIREF <@Arr> %ia
        BRANCH %loop(%v %n @ZERO @ZERO)
    %loop(<@irefP> %v <@i64> %n <@i64> %i <@i64> %s):
        %c = SLT <@i64> %i %n
        BRANCH2 %c %body(%v %n %i %s) %done(%s)
    %body(<@irefP> %v <@i64> %n <@i64> %i <@i64> %s):
        %p = SHIFTIREF <@P @i64> %v %i
        %f0 = GETFIELDIREF <@P 0> %p
        %f1 = GETFIELDIREF <@P 1> %p
        STORE <@i64> %f0 %i
        %x = LOAD <@i64> %f0
        %y = LOAD <@i64> %f1
        %t = ADD <@i64> %x %y
        %s1 = ADD <@i64> %s %t
        %i1 = ADD <@i64> %i @ONE
        BRANCH %loop(%v %n %i1 %s1)
    %done(<@i64> %s):
        RET %s
}
";
