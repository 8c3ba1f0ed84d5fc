#!/usr/bin/env python3
"""A hostile peer on the host: connects to unix-socket listeners (abstract names given as
@name) the way an unprivileged user could, and holds or abuses the connections.

usage: hostile.py SECONDS ADDR...

For each address, in rounds until SECONDS pass: opens idle connections (never sending a
byte), sends garbage, sends OxiMPI hellos with a wrong secret, and sends a hello one byte
at a time (slow loris). Prints one summary line: connections made and refused.
"""
import os
import socket
import struct
import sys
import time


def connect(addr):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    name = "\0" + addr[1:] if addr.startswith("@") else addr
    try:
        s.connect(name)
    except BlockingIOError:
        pass
    return s


def main():
    seconds = float(sys.argv[1])
    addrs = sys.argv[2:]
    end = time.time() + seconds
    made = refused = 0
    held = []
    slow = []
    wrong = b"OXIMPI01" + struct.pack("<IQ", 1, 0x5EC2E7) + struct.pack("<QIQ", 1, 1, 1)
    while time.time() < end:
        for a in addrs:
            for kind in range(24):
                try:
                    s = connect(a)
                except OSError:
                    refused += 1
                    continue
                made += 1
                try:
                    if kind % 4 == 1:
                        s.send(os.urandom(64))
                    elif kind % 4 == 2:
                        s.send(wrong)
                    elif kind % 4 == 3:
                        slow.append([s, 0])
                except OSError:
                    pass
                held.append(s)
        for entry in slow:
            s, i = entry
            if i < len(wrong):
                try:
                    s.send(wrong[i : i + 1])
                except OSError:
                    pass
                entry[1] = i + 1
        # Keep a few hundred open at once, as a patient attacker would.
        while len(held) > 600:
            held.pop(0).close()
        slow = [e for e in slow if e[1] < len(wrong)][-100:]
        time.sleep(0.01)
    for s in held:
        s.close()
    print(f"hostile: {made} connections made, {refused} refused")


if __name__ == "__main__":
    main()
