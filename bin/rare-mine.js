#!/usr/bin/env node
import '../dist/src/app/main.js';
