// Loaded by versions.uir's client: @inc adds ten now.
.const @TEN <@i64> = 10
.funcdef @inc VERSION %v2 <@i_i> {
    %entry(<@i64> %x):
        %y = ADD <@i64> %x @TEN
        RET %y
}
