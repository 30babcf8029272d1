/** The human-readable summary printed by `analyze` without `--json`. */
import type { ChargingReport, SessionReport } from '@charge/gbt27930';

const PHASE_CN: Record<string, string> = {
  handshake: '握手',
  configuration: '参数配置',
  charging: '充电',
  ending: '结束',
};

function v(x: number | string | null, unit = ''): string {
  return x === null ? '—' : `${x}${unit}`;
}

function time(iso: string): string {
  return iso.replace('T', ' ').replace('Z', '');
}

function session(s: SessionReport): string[] {
  const lines: string[] = [];
  const problems = s.findings.filter((f) => f.severity !== 'info').length;
  lines.push(
    `Session ${s.index + 1}: ${time(s.startTime)} → ${time(s.endTime)}  GB/T 27930-${s.edition}  ` +
      `last phase: ${s.lastPhase} (${PHASE_CN[s.lastPhase]})  stopped by: ${s.stopInitiator}  problems: ${problems}`,
  );
  lines.push(
    `  Phases: ${s.phases.map((p) => `${p.name} ${time(p.startTime).slice(11)}`).join(' → ') || '—'}`,
  );
  const veh = s.vehicle;
  lines.push(
    `  Vehicle: VIN ${v(veh.vin)}, BMS V${v(veh.bmsProtocolVersion)}, ${v(veh.batteryType)}, ` +
      `${v(veh.ratedCapacityAh, ' Ah')}, ${v(veh.ratedVoltageV, ' V')}`,
  );
  const ch = s.charger;
  lines.push(
    `  Charger: V${v(ch.protocolVersion)}, number ${v(ch.chargerNumber)}, max ${v(ch.maxOutputVoltageV, ' V')} / ${v(ch.maxOutputCurrentA, ' A')}`,
  );
  const l = s.limits;
  lines.push(
    `  Limits:  cell ${v(l.maxCellVoltageV, ' V')}, current ${v(l.maxChargingCurrentA, ' A')}, total ${v(l.maxTotalVoltageV, ' V')}, temperature ${v(l.maxTemperatureC, ' °C')}`,
  );
  const st = s.stats;
  lines.push(
    `  Stats:   SOC ${v(st.socStart, '%')} → ${v(st.socEnd, '%')}, max ${v(st.maxOutputVoltageV, ' V')} / ${v(st.maxOutputCurrentA, ' A')}, ` +
      `${v(st.energyKWh, ' kWh')}, ${v(st.chargingMinutes, ' min')}, battery max ${v(st.maxBatteryTempC, ' °C')}`,
  );
  if (s.findings.length === 0) lines.push('  Findings: none');
  else {
    lines.push('  Findings:');
    for (const f of s.findings) {
      const span =
        f.startTime === f.endTime ? time(f.startTime) : `${time(f.startTime)} – ${time(f.endTime).slice(11)}`;
      lines.push(`    [${f.severity.toUpperCase()}] ${f.code}  ${span}`);
      lines.push(`        ${f.message}`);
    }
  }
  return lines;
}

/** Formats a report for a terminal. */
export function formatSummary(name: string, r: ChargingReport): string {
  const f = r.file;
  const lines = [
    `${name} (${f.format}${f.sizeBytes !== null ? `, ${f.sizeBytes} bytes` : ''})`,
    `  ${f.canFrames} CAN frames, ${f.errorFrames} error frames, channels ${f.channels.join(', ') || '—'}, ` +
      `${f.startTime ? time(f.startTime) : '—'} → ${f.endTime ? time(f.endTime) : '—'}`,
  ];
  for (const w of f.warnings) lines.push(`  warning: ${w}`);
  lines.push(`  ${r.sessions.length} charging session(s)`, '');
  for (const s of r.sessions) lines.push(...session(s), '');
  if (r.signals) {
    lines.push(`DBC signals decoded: ${r.signals.length}`);
    for (const s of r.signals.slice(0, 50))
      lines.push(`  ${s.message}.${s.signal} [${s.unit}]: ${s.points.length} points`);
  }
  return lines.join('\n') + '\n';
}
