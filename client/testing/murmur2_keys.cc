// Test tool: for each line of stdin (a key), prints our murmur2 and the partition
// for each partition count given as arguments, in the format of
// tests/client/Murmur2Keys.java, so the two outputs can be compared byte for byte.
#include <cstdlib>
#include <iostream>
#include <string>

#include "client/murmur2.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::cout << millrace::client::murmur2(line);
    for (int i = 1; i < argc; ++i) std::cout << ' ' << millrace::client::partition_for_key(line, std::atoi(argv[i]));
    std::cout << '\n';
  }
  return 0;
}
