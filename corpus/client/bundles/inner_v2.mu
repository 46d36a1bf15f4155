// Loaded by versions.uir's client before it replaces @inner's frame.
.const @THREE <@i64> = 3
.funcdef @inner VERSION %v2 <@i_i> {
    %entry(<@i64> %x):
        %y = MUL <@i64> %x @THREE
        RET %y
}
