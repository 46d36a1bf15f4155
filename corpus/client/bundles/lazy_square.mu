// Loaded by versions.uir's client: the first version of @lazy.
.funcdef @lazy VERSION %v1 <@i_i> {
    %entry(<@i64> %x):
        %y = MUL <@i64> %x %x
        RET %y
}
