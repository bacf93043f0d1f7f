#include "vdso_proxy.h"

#include <elf.h>

#include <cstdint>
#include <cstring>

namespace ckpt {
namespace {

template <typename T>
bool read_at(const uint8_t* image, size_t size, uint64_t offset, T* out) {
    if (offset > size || size - offset < sizeof(T)) return false;
    std::memcpy(out, image + offset, sizeof(T));
    return true;
}

bool section(const uint8_t* image, size_t size, const Elf64_Ehdr& eh, uint32_t index, Elf64_Shdr* out) {
    return index < eh.e_shnum && read_at(image, size, eh.e_shoff + uint64_t(index) * eh.e_shentsize, out);
}

// The address the image's first byte is linked at: its first PT_LOAD's.
bool load_bias(const uint8_t* image, size_t size, const Elf64_Ehdr& eh, uint64_t* bias) {
    for (uint32_t i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (!read_at(image, size, eh.e_phoff + uint64_t(i) * eh.e_phentsize, &ph)) return false;
        if (ph.p_type == PT_LOAD) {
            *bias = ph.p_vaddr - ph.p_offset;
            return true;
        }
    }
    return false;
}

const VdsoSymbol* find(const std::vector<VdsoSymbol>& symbols, const std::string& name) {
    for (const VdsoSymbol& s : symbols)
        if (s.name == name) return &s;
    return nullptr;
}

}  // namespace

Expected<std::vector<VdsoSymbol>> vdso_symbols(const uint8_t* image, size_t size) {
    Elf64_Ehdr eh;
    if (!read_at(image, size, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        eh.e_phentsize != sizeof(Elf64_Phdr))
        return format_error("not an x86-64 ELF image");
    uint64_t bias = 0;
    if (!load_bias(image, size, eh, &bias)) return format_error("no loadable segment");
    for (uint32_t i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr symtab, strtab;
        if (!section(image, size, eh, i, &symtab)) return format_error("section headers cut short");
        if (symtab.sh_type != SHT_DYNSYM) continue;
        if (symtab.sh_entsize != sizeof(Elf64_Sym) || !section(image, size, eh, symtab.sh_link, &strtab) ||
            strtab.sh_offset > size || strtab.sh_size > size - strtab.sh_offset)
            return format_error("a damaged dynamic symbol table");
        std::vector<VdsoSymbol> out;
        for (uint64_t at = 0; at + sizeof(Elf64_Sym) <= symtab.sh_size; at += sizeof(Elf64_Sym)) {
            Elf64_Sym sym;
            if (!read_at(image, size, symtab.sh_offset + at, &sym)) return format_error("symbols cut short");
            const unsigned bind = ELF64_ST_BIND(sym.st_info);
            if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || (bind != STB_GLOBAL && bind != STB_WEAK) ||
                sym.st_shndx == SHN_UNDEF || sym.st_name >= strtab.sh_size)
                continue;
            const char* name = reinterpret_cast<const char*>(image + strtab.sh_offset + sym.st_name);
            const size_t max = strtab.sh_size - sym.st_name;
            const size_t len = strnlen(name, max);
            const uint64_t offset = sym.st_value - bias;
            if (len == 0 || len == max || sym.st_value < bias || offset > size || sym.st_size > size - offset)
                return format_error("a symbol outside the image");
            out.push_back({std::string(name, len), offset, sym.st_size});
        }
        return out;
    }
    return format_error("no dynamic symbol table");
}

Expected<std::vector<VdsoPatch>> plan_vdso_redirect(const uint8_t* old_image, size_t old_size, uint64_t old_base,
                                                    const uint8_t* new_image, size_t new_size, uint64_t new_base) {
    auto old_syms = vdso_symbols(old_image, old_size);
    if (!old_syms) return format_error("the image's vDSO: " + old_syms.error().message);
    auto new_syms = vdso_symbols(new_image, new_size);
    if (!new_syms) return format_error("this kernel's vDSO: " + new_syms.error().message);
    std::vector<VdsoPatch> patches;
    for (const VdsoSymbol& old_sym : *old_syms) {
        VdsoPatch p;
        p.offset = old_sym.offset;
        const VdsoSymbol* target = find(*new_syms, old_sym.name);
        if (!target) {
            // mov $-ENOSYS, %rax; ret
            const uint8_t stub[] = {0x48, 0xc7, 0xc0, 0xda, 0xff, 0xff, 0xff, 0xc3};
            std::memcpy(p.bytes, stub, sizeof stub);
            p.len = sizeof stub;
        } else {
            const uint64_t from = old_base + old_sym.offset + 5;
            const uint64_t to = new_base + target->offset;
            const int64_t rel = int64_t(to - from);
            if (rel >= INT32_MIN && rel <= INT32_MAX) {
                // jmp rel32
                p.bytes[0] = 0xe9;
                const int32_t rel32 = int32_t(rel);
                std::memcpy(p.bytes + 1, &rel32, 4);
                p.len = 5;
            } else {
                // movabs $to, %r11; jmp *%r11
                p.bytes[0] = 0x49;
                p.bytes[1] = 0xbb;
                std::memcpy(p.bytes + 2, &to, 8);
                p.bytes[10] = 0x41;
                p.bytes[11] = 0xff;
                p.bytes[12] = 0xe3;
                p.len = 13;
            }
        }
        if (old_sym.size < p.len)
            return format_error("the image's vDSO entry point " + old_sym.name + " is too small (" +
                                std::to_string(old_sym.size) + " bytes) to redirect");
        patches.push_back(p);
    }
    return patches;
}

void apply_vdso_patches(uint8_t* proxy, const VdsoPatch* patches, size_t nr) {
    for (size_t i = 0; i < nr; i++) std::memcpy(proxy + patches[i].offset, patches[i].bytes, patches[i].len);
}

}  // namespace ckpt
