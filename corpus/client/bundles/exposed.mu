// A version of @via_c and an exposure the client loads (corpus/client/exposes.uir).
.const @SEVEN <@i64> = 7
.funcdef @dbl VERSION %v1 <@i_i> {
    %entry(<@i64> %x):
        %y = ADD <@i64> %x %x
        %c = COMMINST @uvm.native.get_cookie ()
        %z = ADD <@i64> %y %c
        RET %z
}
.expose @dbl_x = @dbl #DEFAULT @SEVEN
.funcdef @via_c VERSION %v1 <@i_i> {
    %entry(<@i64> %x):
        %r = CCALL #DEFAULT <@fp @i_i> @dbl_x (%x)
        RET %r
}
