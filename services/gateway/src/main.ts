import { runService } from '@charge/service-kit';
import { build } from './app';
import { loadConfig } from './config';

void runService({ name: 'gateway', loadConfig, build: (ctx) => build(ctx) });
