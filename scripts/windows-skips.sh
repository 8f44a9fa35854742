#!/bin/sh
# Says which tests make test-windows left out, and why: busted lists (on
# the Linux side, without running them) the tests tagged with one of the
# excluded tags; each also carries a tag naming what it needs (spec/README.md).
# Usage: windows-skips.sh TAGS SPEC...   (TAGS: busted's comma-separated list)
tags=$1
shift
list=$(busted --lua=lua5.4 --helper=spec/setup.lua --list --tags="$tags" "$@" 2>/dev/null)
n=$(printf '%s\n' "$list" | grep -c ': ')
echo "skipped on Windows: $n tests tagged #$(echo "$tags" | sed 's/,/ #/g')"
[ "$n" -gt 0 ] || exit 0
# the reason is the tag right after the excluded one ("#linux #unixsock")
# (one per test: a test inside a tagged block may carry two)
printf '%s\n' "$list" | grep ': ' | sed -n "s/.*#\($(echo "$tags" | sed 's/,/\\|/g')\) \(#[a-z0-9_]*\).*/\2/p" \
    | sort | uniq -c | sort -rn | while read -r count why; do
    case $why in
        '#proc') what="reads /proc or counts descriptors there" ;;
        '#shell') what="runs a POSIX shell or Unix tools (openssl, socat, curl, make, ...)" ;;
        '#unixsock') what="needs AF_UNIX sockets or abstract names (none under Wine)" ;;
        '#limits') what="changes resource limits (ulimit)" ;;
        '#strace') what="traces system calls (strace)" ;;
        '#epoll') what="needs epoll" ;;
        '#fork') what="forks" ;;
        '#linuxonly') what="tests a Linux-only option, interface or path" ;;
        '#signals') what="sends POSIX signals (SIGPIPE, SIGALRM, SIGSTOP)" ;;
        '#subms') what="needs sub-millisecond waits (WSAPoll counts whole ms)" ;;
        '#cpuclock') what="measures CPU time with os.clock (wall time on Windows)" ;;
        '#outq') what="needs the kernel's unsent byte count (SIOCOUTQ: getpending, drain)" ;;
        '#soerror') what="needs getoption('error') to clear the error (Winsock keeps it)" ;;
        '#icmp') what="needs ICMP port-unreachable errors (Wine reports none)" ;;
        '#rst') what="needs a TCP reset seen by recv (Wine reports it as an end)" ;;
        *) what="tagged $why" ;;
    esac
    echo "  $count: $what"
done
