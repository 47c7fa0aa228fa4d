# Writes the dashboard page (INPUT) as a C array into OUTPUT, so the
# collector serves it from its binary: no file to install, no asset to find.
#   cmake -DINPUT=index.html -DOUTPUT=dashboard_html.c -P embed.cmake
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR length "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],0x[0-9a-f][0-9a-f],)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}" "/* Generated from collector/dashboard/index.html by embed.cmake: do not edit. */\n#include <stddef.h>\n\nconst unsigned char dashboard_html[] = {\n${bytes}\n};\nconst size_t dashboard_html_len = ${length};\n")
