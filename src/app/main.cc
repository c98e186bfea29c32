// SPDX-License-Identifier: MIT
// main.cc - qpurge entry point; everything is in cli.cc.
#include "qpurge/app/cli.h"

int main(int argc, char** argv) { return qpurge::run_cli(argc, argv); }
