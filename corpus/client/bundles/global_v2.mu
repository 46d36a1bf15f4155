// Loaded by versions.uir's client: a new global cell, and a version that uses it.
.global @extra <@i64>
.const @FIVE <@i64> = 5
.funcdef @inc VERSION %v3 <@i_i> {
    %entry(<@i64> %x):
        STORE <@i64> @extra @FIVE
        %e = LOAD <@i64> @extra
        %y = ADD <@i64> %x %e
        RET %y
}
