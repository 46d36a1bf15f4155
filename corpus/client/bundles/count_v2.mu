// Loaded by versions.uir's client while @count.v1 is live: its second version.
.const @THOUSAND <@i64> = 1000
.funcdef @count VERSION %v2 <@i_i> {
    %entry(<@i64> %n):
        %k = [%t] TRAP <@i64> KEEPALIVE(%n)
        %r = ADD <@i64> %k @THOUSAND
        RET %r
}
