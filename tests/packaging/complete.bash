# Drives the installed bash completion the way bash does on TAB: sets COMP_WORDS,
# COMP_CWORD, COMP_LINE and COMP_POINT and calls the completion function, then prints
# what it offers (COMPREPLY), one per line, and a line "\x1e" after each request.
# Input, one request a line: COMP_LINE, COMP_CWORD and the words, separated by \x1f.
#   bash complete.bash COMPLETION_FILE < requests
source /usr/share/bash-completion/bash_completion
source "$1"
end=$'\x1e'
while IFS=$'\x1f' read -r -a fields; do
  COMP_LINE=${fields[0]}
  COMP_POINT=${#COMP_LINE}
  COMP_CWORD=${fields[1]}
  COMP_WORDS=("${fields[@]:2}")
  ((${#COMP_WORDS[@]} == COMP_CWORD)) && COMP_WORDS+=("")  # read drops a last empty field
  COMPREPLY=()
  case ${COMP_WORDS[0]##*/} in
    *bkpfs*) _bkpfs ;;
    *) _bkp ;;
  esac
  ((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}"
  printf '%s\n' "$end"
done
