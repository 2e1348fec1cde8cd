# Complete a command line in a real interactive zsh and print every match offered, one per line.
#   zsh -f zsh-complete.zsh FPATH_DIR 'bamon remove '
# An interactive zsh runs in a pseudo-terminal (zpty); compadd is wrapped to report the matches.
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1=''; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd() { local -a hits; builtin compadd -O hits "$@"; print -r -- "<<${^hits}>>" >/dev/tty; builtin compadd "$@"; }'
zpty -w z 'zstyle ":completion:*" list-prompt ""; zstyle ":completion:*" menu no'
zpty -w z 'print "READY-$((6*7))"'
zpty -r z line '*READY-42*'
zpty -w -n z "$2"$'\t'
local out='' chunk
# the completion runs bamon for check names: give it time, then take everything it printed
sleep 2
while zpty -r -t z chunk; do out+=$chunk; done
print -r -- "$out" | grep -ao '<<[^>]*>>' | tr -d '<>' | tr ' ' '\n' | sort -u
zpty -d z
