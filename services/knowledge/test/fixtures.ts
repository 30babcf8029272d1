import { strToU8, zipSync } from 'fflate';

/** A GB/T 27930 stop-code table (停充码表) as the old system's Excel export wrote it. */
export const FAULT_CSV = [
  '停充码,故障名称,故障说明,处理建议',
  '1001.0,绝缘故障,BMS检测到绝缘电阻过低，充电机停止输出,检查直流母线和电池包绝缘，测量绝缘电阻',
  '1002.0,电池过温,电池最高温度超过允许值，BMS请求停止充电,检查电池热管理系统和冷却液',
  '1003.0,充电机过温,充电机内部温度过高触发过温保护,清理风扇滤网，检查散热风道',
  '1004.0,BCL报文超时,充电机未在规定时间内收到电池充电需求报文BCL,检查CAN总线连接和终端电阻',
  '1005.0,单体过压,"单体电池电压超过最高允许充电电压, 停止充电",检查BMS电压采样',
].join('\n');

export const MANUAL_MD = [
  '# 直流充电桩维护手册',
  '',
  '本手册适用于GB/T 27930协议的直流充电设备。',
  '',
  '## 绝缘检测',
  '',
  '充电前充电机进行绝缘检测，绝缘电阻低于100Ω/V时判定为绝缘故障，应停止充电并检查高压线缆。',
  '',
  '## 散热系统',
  '',
  '风扇堵塞会导致功率模块温度升高，应每季度清理风扇滤网。',
  '',
  '### 冷却液',
  '',
  '液冷充电枪需检查冷却液液位和泵的运行状态。',
].join('\n');

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A minimal but valid .xlsx (shared strings and numeric cells) with one sheet. */
export function xlsx(sheetName: string, rows: (string | number)[][]): Uint8Array {
  const strings: string[] = [];
  const sheetRows = rows
    .map((row, r) => {
      const cells = row
        .map((value, c) => {
          const ref = `${String.fromCharCode(65 + c)}${r + 1}`;
          if (typeof value === 'number') return `<c r="${ref}"><v>${value}</v></c>`;
          strings.push(value);
          return `<c r="${ref}" t="s"><v>${strings.length - 1}</v></c>`;
        })
        .join('');
      return `<row r="${r + 1}">${cells}</row>`;
    })
    .join('');
  return zipSync({
    '[Content_Types].xml': strToU8(
      '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    ),
    'xl/workbook.xml': strToU8(
      `<?xml version="1.0"?><workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="${esc(sheetName)}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    ),
    'xl/_rels/workbook.xml.rels': strToU8(
      '<?xml version="1.0"?><Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>',
    ),
    'xl/sharedStrings.xml': strToU8(`<sst>${strings.map((s) => `<si><t>${esc(s)}</t></si>`).join('')}</sst>`),
    'xl/worksheets/sheet1.xml': strToU8(`<worksheet><sheetData>${sheetRows}</sheetData></worksheet>`),
  });
}

/** A minimal .docx: paragraphs, `Heading1`/`Heading2` styles for `#`/`##` lines. */
export function docx(lines: string[]): Uint8Array {
  const paragraphs = lines
    .map((line) => {
      const m = /^(#+)\s+(.*)$/.exec(line);
      const style = m ? `<w:pPr><w:pStyle w:val="Heading${m[1].length}"/></w:pPr>` : '';
      return `<w:p>${style}<w:r><w:t>${esc(m ? m[2] : line)}</w:t></w:r></w:p>`;
    })
    .join('');
  return zipSync({
    'word/document.xml': strToU8(`<w:document><w:body>${paragraphs}</w:body></w:document>`),
  });
}

/** A minimal valid PDF, one Helvetica text line per page (ASCII only: no CID fonts here). */
export function pdf(pages: string[]): Buffer {
  const objects: string[] = [];
  const add = (s: string) => objects.push(s);
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const pagesId = 1 + pages.length * 2 + 1;
  const pageIds: number[] = [];
  for (const text of pages) {
    const stream = `BT /F1 12 Tf 72 720 Td (${text.replace(/[()\\]/g, (c) => `\\${c}`)}) Tj ET`;
    const contents = add(`<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`);
    pageIds.push(
      add(
        `<< /Type /Page /Parent ${pagesId} 0 R /MediaBox [0 0 612 792] /Contents ${contents} 0 R /Resources << /Font << /F1 1 0 R >> >> >>`,
      ),
    );
  }
  add(`<< /Type /Pages /Kids [${pageIds.map((i) => `${i} 0 R`).join(' ')}] /Count ${pageIds.length} >>`);
  const catalog = add(`<< /Type /Catalog /Pages ${pagesId} 0 R >>`);
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** A Chinese charger/BMS fault-code corpus for retrieval quality: code, name, cause, action. */
export const FAULT_CORPUS: [string, string, string, string][] = [
  ['3001', '绝缘检测失败', '直流输出对地绝缘电阻低于限值', '检查直流电缆和充电枪绝缘层是否破损'],
  ['3002', '充电枪过温', '枪头温度传感器检测到端子温度过高', '检查端子接触是否良好并降低输出电流'],
  ['3003', '电子锁故障', '充电枪电子锁无法锁止或反馈信号异常', '检查电子锁电机和锁止反馈线路'],
  ['3004', '急停按钮动作', '操作人员按下急停按钮导致充电中止', '排除危险后复位急停按钮'],
  ['3005', '门禁打开', '充电桩柜门在运行中被打开', '关闭柜门并检查门磁开关'],
  ['3006', '交流输入过压', '电网输入电压高于允许范围', '测量三相进线电压并联系供电部门'],
  ['3007', '交流输入欠压', '电网输入电压低于允许范围', '检查进线端子是否松动以及电网负荷'],
  ['3008', '功率模块故障', '整流模块上报内部故障或通信丢失', '更换故障功率模块并检查模块风扇'],
  ['3009', '输出接触器粘连', '直流输出接触器断开后两端仍有电压', '更换直流接触器并检查驱动回路'],
  ['3010', '预充失败', '预充阶段输出电压未能匹配电池电压', '检查预充电阻和电池端电压采样'],
  ['3011', 'BMS通信超时', '充电机在规定时间内未收到BMS报文', '检查CAN_H和CAN_L接线以及终端电阻'],
  ['3012', '握手辨识失败', '充电握手阶段BRM报文内容不合法', '核对车辆BMS协议版本和辨识报文'],
  ['3013', '电池电压异常', 'BMS上报的电池总电压与测量值偏差过大', '校准电压采样并检查熔断器'],
  ['3014', '单体电压过高', '最高单体电池电压超过允许充电上限', '停止充电并检查电池均衡状态'],
  ['3015', '电池温度过高', '电池包最高温度超过允许值', '检查电池冷却系统并等待电池降温'],
  ['3016', '电池温度过低', '电池包温度低于允许充电温度', '启动电池加热后再充电'],
  ['3017', 'SOC已满', '电池荷电状态达到目标值正常结束', '无需处理，充电正常完成'],
  ['3018', '输出过流', '实际输出电流超过BCL需求电流', '检查电流环控制参数和分流器采样'],
  ['3019', '输出短路', '直流输出端检测到短路电流', '断电后检查输出回路和车辆侧高压线束'],
  ['3020', '辅助电源故障', '低压辅助电源12V或24V输出异常', '测量辅助电源输出并更换辅助电源模块'],
  ['3021', '风扇故障', '散热风扇转速反馈为零或堵转', '清理风扇异物或更换风扇'],
  ['3022', '防雷器失效', '浪涌保护器指示窗变红', '更换防雷模块'],
  ['3023', '计量电表通信失败', '直流电能表RS485通信中断', '检查电表地址和485接线'],
  ['3024', '车辆主动中止', '车辆BMS发送BST报文主动中止充电', '读取BST中止原因码并排查车辆侧'],
];

/** Questions worded unlike the table, each with the code that answers it. */
export const PARAPHRASES: [string, string][] = [
  ['枪头端子太烫了怎么办', '3002'],
  ['充电枪锁不上', '3003'],
  ['有人拍了急停', '3004'],
  ['柜门没关好报警', '3005'],
  ['电网电压偏高导致不能充电', '3006'],
  ['整流模块坏了', '3008'],
  ['接触器断不开有残压', '3009'],
  ['收不到BMS的报文', '3011'],
  ['单体电池电压超限', '3014'],
  ['电池太冷充不进去', '3016'],
  ['电流比需求大', '3018'],
  ['风扇不转', '3021'],
  ['电表485不通', '3023'],
  ['车端发了BST停止', '3024'],
  ['对地绝缘电阻偏低', '3001'],
];
