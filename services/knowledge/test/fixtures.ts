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
